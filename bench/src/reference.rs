//! The ceiling: a bare actix-web handler that reads a small form and answers JSON, driven by the
//! same load generator, so every figure can be read as a share of what this machine, this
//! framework and this client allow. It runs as a process of its own (this executable with the
//! argument `ceiling-server`) on the server cores, like the services.

use std::{
    io::{BufRead, BufReader},
    net::TcpListener,
    process::{Child, Command, Stdio},
    sync::Arc,
};

use actix_web::{web, App, HttpResponse, HttpServer};

use crate::load::{self, Figures};

/// The argument that makes this executable the ceiling's server.
pub const SERVER_ARGUMENT: &str = "ceiling-server";

async fn bare(form: web::Form<Vec<(String, String)>>) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"fields": form.len()}))
}

/// The ceiling's server: prints `listening on <address>` and serves until killed.
pub fn serve() -> std::io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    println!("listening on {}", listener.local_addr()?);
    actix_web::rt::System::new().block_on(
        HttpServer::new(|| App::new().route("/token", web::post().to(bare)))
            .listen(listener)?
            .run(),
    )
}

/// The server process, stopped on drop.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start() -> (Server, String) {
    let mut child = Command::new(std::env::current_exe().expect("the bench executable"))
        .arg(SERVER_ARGUMENT)
        .stdout(Stdio::piped())
        .spawn()
        .expect("the ceiling's server starts");
    crate::cores::pin_server(child.id());
    let line = BufReader::new(child.stdout.take().expect("piped stdout"))
        .lines()
        .map_while(Result::ok)
        .find(|l| l.starts_with("listening on "))
        .expect("the ceiling's server reports its address");
    let address = line.trim_start_matches("listening on ").trim().to_string();
    (Server(child), format!("http://{address}/token"))
}

/// `runs` runs of `load::REQUESTS` form posts against the bare handler; the median run.
pub async fn ceiling(runs: usize) -> Figures {
    let (server, url) = start();
    let url = Arc::new(url);
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
    let (figures, _) =
        load::measured(runs, &[server.0.id()], vec![(); load::CONCURRENCY], step).await;
    drop(server);
    figures
}
