//! The outbound HTTP client: verified TLS, timeouts, and redirects never followed (the contract
//! inspects 3xx answers itself and never lets a peer bounce a token to another host).

use std::time::Duration;

pub const USER_AGENT: &str = concat!("openproject-nextcloud-storages/", env!("CARGO_PKG_VERSION"));

pub fn build(connect_timeout: Duration, timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(USER_AGENT)
        .build()
        .expect("a client with rustls and these options always builds")
}
