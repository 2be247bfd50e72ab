//! What operators and orchestrators read on both services (Extensions of the contract):
//! `GET /healthz` (the process answers), `GET /readyz` (it can serve: the database answers, its
//! migrations are current, the secret key seals and opens) and `GET /metrics` (Prometheus text
//! format: requests by route template, token grants, calls to the peer, the database pool,
//! housekeeping). A request id travels with every request: taken from `X-Request-Id` when the
//! caller sent a well-formed one, made up otherwise, logged on the request's span, returned in
//! the response, and sent on to the peer by [`crate::http_client::SendObserved`].

use std::{sync::LazyLock, time::Duration};

use actix_web::{web, HttpResponse};
use diesel::connection::SimpleConnection;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};

use crate::{
    crypto::SecretBox,
    db::{AnyConnection, Db, Migrations},
};

pub const REQUEST_ID_HEADER: &str = "X-Request-Id";
/// Where orchestrators ask whether the process lives, and whether it can serve.
pub const LIVENESS_PATH: &str = "/healthz";
pub const READINESS_PATH: &str = "/readyz";
pub const METRICS_PATH: &str = "/metrics";

tokio::task_local! {
    /// The id of the request whose handler runs on this task.
    pub static REQUEST_ID: String;
}

/// A caller's request id, if it is one we may log and forward: 1–64 characters of letters,
/// digits, `-`, `_` and `.` (anything else could forge log lines or headers).
pub fn accepted_request_id(header: Option<&str>) -> Option<String> {
    header
        .filter(|id| (1..=64).contains(&id.len()))
        .filter(|id| {
            id.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        })
        .map(str::to_string)
}

/// A new request id: 32 random hex digits, as a UUID in its simple form looked (from the
/// thread's CSPRNG: a UUID's own was a system call per request).
pub fn new_request_id() -> String {
    crate::crypto::random_hex(16)
}

/// The request id of the current task, when it runs a request.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// The process's metrics.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    request_seconds: HistogramVec,
    grants: IntCounterVec,
    peer_calls: IntCounterVec,
    peer_seconds: HistogramVec,
    pool: IntGaugeVec,
    purged: IntCounterVec,
}

/// Latency buckets from 0.5 ms to 10 s.
const SECONDS_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

pub static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

impl Metrics {
    fn new() -> Self {
        let registry = Registry::new();
        let counter = |name: &str, help: &str, labels: &[&str]| {
            let metric =
                IntCounterVec::new(Opts::new(name, help), labels).expect("a well-formed counter");
            registry
                .register(Box::new(metric.clone()))
                .expect("registered once");
            metric
        };
        let histogram = |name: &str, help: &str, labels: &[&str]| {
            let metric = HistogramVec::new(
                HistogramOpts::new(name, help).buckets(SECONDS_BUCKETS.to_vec()),
                labels,
            )
            .expect("a well-formed histogram");
            registry
                .register(Box::new(metric.clone()))
                .expect("registered once");
            metric
        };
        let requests = counter(
            "http_requests_total",
            "Requests answered, by method, route template and status.",
            &["method", "route", "status"],
        );
        let request_seconds = histogram(
            "http_request_duration_seconds",
            "Time to answer a request, by method and route template.",
            &["method", "route"],
        );
        let grants = counter(
            "oauth_token_requests_total",
            "Requests to this service's OAuth token endpoint, by grant type and outcome.",
            &["grant_type", "outcome"],
        );
        let peer_calls = counter(
            "peer_requests_total",
            "Calls to the other product (or a host being checked), by outcome.",
            &["outcome"],
        );
        let peer_seconds = histogram(
            "peer_request_duration_seconds",
            "Time until the other product's answer headers arrived, by outcome.",
            &["outcome"],
        );
        let pool = IntGaugeVec::new(
            Opts::new(
                "db_pool_connections",
                "Database connections of this process, by state.",
            ),
            &["state"],
        )
        .expect("a well-formed gauge");
        registry
            .register(Box::new(pool.clone()))
            .expect("registered once");
        let purged = counter(
            "housekeeping_removed_total",
            "Rows (and files) housekeeping removed, by what they were.",
            &["what"],
        );
        Self {
            registry,
            requests,
            request_seconds,
            grants,
            peer_calls,
            peer_seconds,
            pool,
            purged,
        }
    }

    /// One answered request; `route` is the matched route template, never the raw path (ids
    /// and tokens would make unbounded label values).
    pub fn observe_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        self.requests
            .with_label_values(&[method, route, &status.to_string()])
            .inc();
        self.request_seconds
            .with_label_values(&[method, route])
            .observe(elapsed.as_secs_f64());
    }

    /// One request to our token endpoint: `grant_type` as sent (only the known ones are kept
    /// as labels), `granted` when tokens were issued.
    pub fn observe_grant(&self, grant_type: &str, granted: bool) {
        let grant_type = match grant_type {
            "authorization_code" | "refresh_token" | "client_credentials" => grant_type,
            _ => "other",
        };
        let outcome = if granted { "granted" } else { "refused" };
        self.grants.with_label_values(&[grant_type, outcome]).inc();
    }

    /// One call to the peer: `outcome` is "2xx".."5xx", "timeout" or "unreachable".
    pub fn observe_peer_call(&self, outcome: &str, elapsed: Duration) {
        self.peer_calls.with_label_values(&[outcome]).inc();
        self.peer_seconds
            .with_label_values(&[outcome])
            .observe(elapsed.as_secs_f64());
    }

    pub fn observe_purge(&self, what: &str, removed: usize) {
        self.purged
            .with_label_values(&[what])
            .inc_by(removed as u64);
    }

    /// The text exposition, with the pool's state read now.
    pub fn render(&self, db: &Db) -> String {
        let (connections, idle) = db.pool_state();
        self.pool.with_label_values(&["idle"]).set(i64::from(idle));
        self.pool
            .with_label_values(&["in_use"])
            .set(i64::from(connections.saturating_sub(idle)));
        let mut out = Vec::new();
        // Encoding into a Vec fails only on a metric family without metrics, which the
        // registry never returns.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

/// The outcome label of a peer call.
pub fn peer_outcome(result: &Result<reqwest::Response, reqwest::Error>) -> &'static str {
    match result {
        Ok(response) => match response.status().as_u16() {
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        },
        Err(e) if e.is_timeout() => "timeout",
        Err(_) => "unreachable",
    }
}

/// What `/readyz` checks, shared by the service's workers.
#[derive(Clone)]
pub struct Probes {
    pub db: Db,
    pub migrations: Migrations,
    pub secret_box: SecretBox,
}

/// One check of `/readyz`: its name and, when failing, why.
#[derive(Debug, serde::Serialize)]
pub struct Check {
    pub name: &'static str,
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Check {
    fn of(name: &'static str, result: Result<(), String>) -> Self {
        Self {
            name,
            ok: result.is_ok(),
            error: result.err(),
        }
    }
}

/// The checks of `/readyz` over `conn`.
pub fn readiness(
    conn: &mut AnyConnection,
    migrations: &Migrations,
    secret_box: &SecretBox,
) -> Vec<Check> {
    let database = conn
        .batch_execute("SELECT 1")
        .map_err(|e| format!("the database does not answer: {e}"));
    let current =
        database
            .as_ref()
            .map_err(Clone::clone)
            .and_then(|()| match migrations.pending(conn) {
                Ok(false) => Ok(()),
                Ok(true) => {
                    Err("migrations are pending: run the binary's `migrate` command".into())
                }
                Err(e) => Err(format!("migrations cannot be read: {e}")),
            });
    let probe = "readiness";
    let key = match secret_box.open(&secret_box.seal(probe)) {
        Ok(opened) if opened == probe => Ok(()),
        _ => Err("the secret key cannot seal and open a secret".to_string()),
    };
    vec![
        Check::of("database", database),
        Check::of("migrations", current),
        Check::of("secret_key", key),
    ]
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(serde_json::json!({"status": "ok"}))
}

async fn readyz(probes: web::Data<Probes>) -> HttpResponse {
    let probes = probes.into_inner();
    let checks = {
        let probes = probes.clone();
        tokio::task::spawn_blocking(move || match probes.db.get() {
            Ok(mut conn) => readiness(&mut conn, &probes.migrations, &probes.secret_box),
            Err(e) => vec![Check::of(
                "database",
                Err(format!("no database connection: {e}")),
            )],
        })
        .await
        .unwrap_or_else(|_| vec![Check::of("database", Err("the check was cancelled".into()))])
    };
    let ready = checks.iter().all(|check| check.ok);
    let mut response = if ready {
        HttpResponse::Ok()
    } else {
        HttpResponse::ServiceUnavailable()
    };
    response
        .insert_header(("Cache-Control", "no-store"))
        .json(serde_json::json!({
            "status": if ready { "ready" } else { "not ready" },
            "checks": checks,
        }))
}

async fn metrics(probes: web::Data<Probes>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .content_type(prometheus::TEXT_FORMAT)
        .body(METRICS.render(&probes.db))
}

/// Registers `/healthz`, `/readyz` and `/metrics`.
pub fn configure(cfg: &mut web::ServiceConfig, probes: Probes) {
    cfg.app_data(web::Data::new(probes))
        .route(LIVENESS_PATH, web::get().to(healthz))
        .route(READINESS_PATH, web::get().to(readyz))
        .route(METRICS_PATH, web::get().to(metrics));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_short_plain_request_ids_are_taken_from_callers() {
        assert_eq!(
            accepted_request_id(Some("abc-123_x.y")),
            Some("abc-123_x.y".into())
        );
        assert_eq!(accepted_request_id(Some("")), None);
        assert_eq!(accepted_request_id(Some("a\r\nforged: line")), None);
        assert_eq!(accepted_request_id(Some(&"x".repeat(65))), None);
        assert_eq!(accepted_request_id(None), None);
        assert_eq!(new_request_id().len(), 32);
    }

    #[test]
    fn metrics_render_in_the_text_format_with_route_templates() {
        METRICS.observe_request(
            "GET",
            "/api/v3/storages/{id}",
            200,
            Duration::from_millis(3),
        );
        METRICS.observe_grant("refresh_token", true);
        METRICS.observe_grant("password", false);
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&METRICS.registry.gather(), &mut out)
            .expect("encodes");
        let text = String::from_utf8(out).expect("utf-8");
        assert!(text.contains(
            r#"http_requests_total{method="GET",route="/api/v3/storages/{id}",status="200"}"#
        ));
        assert!(text.contains(
            r#"oauth_token_requests_total{grant_type="refresh_token",outcome="granted"}"#
        ));
        assert!(
            text.contains(r#"oauth_token_requests_total{grant_type="other",outcome="refused"}"#)
        );
        assert!(text.contains("http_request_duration_seconds_bucket"));
    }
}
