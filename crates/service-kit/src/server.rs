//! Server scaffolding both services share: binding, the public URL, the request span.

use std::{net::TcpListener, time::Instant};

use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    middleware::Next,
    Error,
};
use tracing::Instrument;

use crate::operations;

/// Binds `addr` (port 0 picks a free port) and returns the listener with the public URL:
/// the configured one, or `http://<bound address>`.
pub fn bind(
    addr: std::net::SocketAddr,
    public_url: Option<&str>,
) -> std::io::Result<(TcpListener, String)> {
    let listener = TcpListener::bind(addr)?;
    let bound = listener.local_addr()?;
    let public = public_url
        .map(str::to_string)
        .unwrap_or_else(|| format!("http://{bound}"));
    Ok((listener, public))
}

/// One span per request with its id, method, path (never the query string: it may carry OAuth
/// codes and state; see [`loggable_path`]), status and latency; one event when the response is
/// ready. The request id is answered in `X-Request-Id` and set for the handler's task, so calls
/// to the peer carry it on; the request is counted in the metrics under its route template.
pub async fn request_span(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let request_id = operations::accepted_request_id(
        req.headers()
            .get(operations::REQUEST_ID_HEADER)
            .and_then(|v| v.to_str().ok()),
    )
    .unwrap_or_else(operations::new_request_id);
    let method = req.method().to_string();
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %method,
        path = %loggable_path(req.path()),
        status = tracing::field::Empty,
        latency_ms = tracing::field::Empty,
    );
    let started = Instant::now();
    let result = operations::REQUEST_ID
        .scope(request_id.clone(), next.call(req).instrument(span.clone()))
        .await;
    let elapsed = started.elapsed();
    let status = match &result {
        Ok(res) => res.status().as_u16(),
        Err(e) => e.as_response_error().status_code().as_u16(),
    };
    // Known once routing has run: the template, never the raw path (ids and tokens would make
    // unbounded label values).
    let route = result
        .as_ref()
        .ok()
        .and_then(|res| res.request().match_pattern())
        .unwrap_or_else(|| "unmatched".to_string());
    operations::METRICS.observe_request(&method, &route, status, elapsed);
    span.record("status", status);
    span.record("latency_ms", elapsed.as_secs_f64() * 1000.0);
    // The span already carries method, path, status and latency.
    span.in_scope(|| {
        if status >= 500 {
            tracing::error!("request finished");
        } else {
            tracing::info!("request finished");
        }
    });
    result.map(|mut res| {
        if let Ok(value) = HeaderValue::from_str(&request_id) {
            res.headers_mut()
                .insert(HeaderName::from_static("x-request-id"), value);
        }
        res
    })
}

/// `path` as it may be logged: the segment after a `direct` segment is a direct-download token
/// (Nextcloud's `/remote.php/direct/<token>` and `…/integration_openproject/direct/<token>/<name>`),
/// and the one after `direct-upload` a direct-upload token (`…/direct-upload/<token>`), each a
/// bearer credential by itself, and is replaced by `***`.
pub fn loggable_path(path: &str) -> std::borrow::Cow<'_, str> {
    if !path.contains("/direct/") && !path.contains("/direct-upload/") {
        return std::borrow::Cow::Borrowed(path);
    }
    let mut previous = "";
    let redacted: Vec<&str> = path
        .split('/')
        .map(|segment| {
            let shown = if matches!(previous, "direct" | "direct-upload") && !segment.is_empty() {
                "***"
            } else {
                segment
            };
            previous = segment;
            shown
        })
        .collect();
    std::borrow::Cow::Owned(redacted.join("/"))
}

/// A shutdown request (SIGINT or SIGTERM) whose handlers are registered as soon as this is
/// created, so a signal arriving right after start-up is never lost.
pub type ShutdownSignal = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

pub fn shutdown_signal() -> ShutdownSignal {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut interrupt =
            signal(SignalKind::interrupt()).expect("installing a SIGINT handler works on unix");
        let mut terminate =
            signal(SignalKind::terminate()).expect("installing a SIGTERM handler works on unix");
        Box::pin(async move {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    Box::pin(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

/// Serves until `shutdown` fires, then stops accepting and drains in-flight requests.
/// The stop runs in its own task: the server future must keep being polled to carry it out.
pub async fn serve_until_signal(
    server: actix_web::dev::Server,
    shutdown: ShutdownSignal,
) -> std::io::Result<()> {
    let handle = server.handle();
    tokio::spawn(async move {
        shutdown.await;
        tracing::info!("shutting down");
        handle.stop(true).await;
    });
    server.await
}

#[cfg(test)]
mod tests {
    use super::loggable_path;

    #[test]
    fn direct_download_tokens_are_not_logged() {
        assert_eq!(
            loggable_path("/remote.php/direct/AbC123"),
            "/remote.php/direct/***"
        );
        assert_eq!(
            loggable_path("/index.php/apps/integration_openproject/direct/AbC123/report.pdf"),
            "/index.php/apps/integration_openproject/direct/***/report.pdf"
        );
        assert_eq!(loggable_path("/remote.php/direct/"), "/remote.php/direct/");
        assert_eq!(
            loggable_path("/apps/integration_openproject/direct-upload/AbC123"),
            "/apps/integration_openproject/direct-upload/***"
        );
        assert_eq!(
            loggable_path("/index.php/apps/integration_openproject/direct-upload-token"),
            "/index.php/apps/integration_openproject/direct-upload-token"
        );
        assert_eq!(loggable_path("/api/v3/storages/1"), "/api/v3/storages/1");
        assert_eq!(
            loggable_path("/remote.php/dav/files/alice/direct"),
            "/remote.php/dav/files/alice/direct"
        );
    }
}
