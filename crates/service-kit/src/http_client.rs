//! The outbound HTTP client: verified TLS, timeouts, and redirects never followed (the contract
//! inspects 3xx answers itself and never lets a peer bounce a token to another host).

use std::time::Duration;

pub const USER_AGENT: &str = concat!("openproject-nextcloud-storages/", env!("CARGO_PKG_VERSION"));

/// A client whose requests fail after `timeout` in total.
pub fn build(connect_timeout: Duration, timeout: Duration) -> reqwest::Client {
    builder(connect_timeout)
        .timeout(timeout)
        .build()
        .expect("a client with rustls and these options always builds")
}

/// A client whose requests fail when the peer stays silent for `read_timeout` (between reads),
/// the contract's "read timeout"; `total` caps a peer that trickles bytes forever.
pub fn build_with_read_timeout(
    connect_timeout: Duration,
    read_timeout: Duration,
    total: Duration,
) -> reqwest::Client {
    builder(connect_timeout)
        .read_timeout(read_timeout)
        .timeout(total)
        .build()
        .expect("a client with rustls and these options always builds")
}

fn builder(connect_timeout: Duration) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(USER_AGENT)
}
