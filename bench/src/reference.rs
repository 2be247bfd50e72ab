//! The ceiling: a bare actix-web handler that reads a small form and answers JSON, driven by the
//! same load generator, so every figure can be read as a share of what this machine, this
//! framework and this client allow.

use std::{net::TcpListener, sync::Arc};

use actix_web::{web, App, HttpResponse, HttpServer};

use crate::load::{self, Figures};

async fn bare(form: web::Form<Vec<(String, String)>>) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"fields": form.len()}))
}

/// `runs` runs of `load::REQUESTS` form posts against the bare handler; the median run.
pub async fn ceiling(runs: usize) -> Figures {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    let url = Arc::new(format!(
        "http://{}/token",
        listener.local_addr().expect("address")
    ));
    let server = HttpServer::new(|| App::new().route("/token", web::post().to(bare)))
        .listen(listener)
        .expect("listens")
        .disable_signals()
        .run();
    let handle = server.handle();
    tokio::spawn(server);
    let client = reqwest::Client::new();
    let step = Arc::new(move |state: ()| {
        let (client, url) = (client.clone(), url.clone());
        async move {
            let response = client
                .post(url.as_str())
                .form(&[("grant_type", "refresh_token"), ("refresh_token", "x")])
                .send()
                .await
                .expect("bare request");
            assert!(response.status().is_success());
            let _ = response.bytes().await;
            state
        }
    });
    let mut figures = Vec::new();
    for _ in 0..runs {
        let states = vec![(); load::CONCURRENCY];
        figures.push(
            load::closed_loop(states, load::REQUESTS, step.clone())
                .await
                .0,
        );
    }
    handle.stop(true).await;
    load::median(figures)
}
