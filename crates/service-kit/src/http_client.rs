//! The outbound HTTP client: verified TLS, timeouts, redirects never followed (the contract
//! inspects 3xx answers itself and never lets a peer bounce a token to another host), and the
//! destinations it may connect to ([`Destinations`], see [`crate::outbound`]). Every call either
//! service makes to its peer or to a candidate host goes through a client built here.

use std::{sync::Arc, time::Duration};

use crate::{operations, outbound};

pub const USER_AGENT: &str = concat!("openproject-nextcloud-storages/", env!("CARGO_PKG_VERSION"));

/// Where a client may connect: the `*_ALLOW_LOCAL_REMOTE_SERVERS` setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destinations {
    /// Only public internet addresses ([`outbound::is_public`]), judged after resolution for
    /// every connection. Proxy variables (`HTTP_PROXY`, …) are not used: the check judges the
    /// addresses the service itself connects to.
    PublicOnly,
    /// Any address, loopback and private networks included (both services on one machine).
    AnyAddress,
}

impl Destinations {
    /// `AnyAddress` when local remote servers are allowed.
    pub fn allowing_local(allow_local: bool) -> Self {
        if allow_local {
            Self::AnyAddress
        } else {
            Self::PublicOnly
        }
    }
}

/// How every outbound request is sent: with the current request's id in `X-Request-Id`, so one
/// setup can be followed across both services' logs, and counted in the metrics by outcome and
/// latency.
pub trait SendObserved {
    fn send_observed(
        self,
    ) -> impl std::future::Future<Output = reqwest::Result<reqwest::Response>> + Send;
}

impl SendObserved for reqwest::RequestBuilder {
    async fn send_observed(self) -> reqwest::Result<reqwest::Response> {
        let (client, request) = self.build_split();
        execute_observed(&client, request?).await
    }
}

async fn execute_observed(
    client: &reqwest::Client,
    mut request: reqwest::Request,
) -> reqwest::Result<reqwest::Response> {
    if let Some(id) = operations::current_request_id()
        .and_then(|id| reqwest::header::HeaderValue::from_str(&id).ok())
    {
        request
            .headers_mut()
            .insert(operations::REQUEST_ID_HEADER, id);
    }
    let started = std::time::Instant::now();
    let result = client.execute(request).await;
    operations::METRICS.observe_peer_call(operations::peer_outcome(&result), started.elapsed());
    result
}

/// The token requests the `oauth2` crate makes (`request_async(&Observed(&client))`), sent as
/// [`SendObserved`] sends the others: with the request id, counted in the metrics.
pub struct Observed<'a>(pub &'a reqwest::Client);

type TokenCall<'c> = std::pin::Pin<
    Box<
        dyn std::future::Future<
                Output = Result<oauth2::HttpResponse, oauth2::HttpClientError<reqwest::Error>>,
            > + Send
            + 'c,
    >,
>;

impl<'c> oauth2::AsyncHttpClient<'c> for Observed<'_> {
    type Error = oauth2::HttpClientError<reqwest::Error>;
    type Future = TokenCall<'c>;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        let reqwest_error = |e| oauth2::HttpClientError::Reqwest(Box::new(e));
        Box::pin(async move {
            let request = reqwest::Request::try_from(request).map_err(reqwest_error)?;
            let response = execute_observed(self.0, request)
                .await
                .map_err(reqwest_error)?;
            let mut answer = oauth2::http::Response::builder()
                .status(response.status())
                .version(response.version());
            for (name, value) in response.headers() {
                answer = answer.header(name, value);
            }
            let body = response.bytes().await.map_err(reqwest_error)?;
            answer
                .body(body.to_vec())
                .map_err(oauth2::HttpClientError::Http)
        })
    }
}

/// A client whose requests fail after `timeout` in total.
pub fn build(
    destinations: Destinations,
    connect_timeout: Duration,
    timeout: Duration,
) -> reqwest::Client {
    builder(destinations, connect_timeout)
        .timeout(timeout)
        .build()
        .expect("a client with rustls and these options always builds")
}

/// A client whose requests fail when the peer stays silent for `read_timeout` (between reads),
/// the contract's "read timeout"; `total` caps a peer that trickles bytes forever.
pub fn build_with_read_timeout(
    destinations: Destinations,
    connect_timeout: Duration,
    read_timeout: Duration,
    total: Duration,
) -> reqwest::Client {
    builder(destinations, connect_timeout)
        .read_timeout(read_timeout)
        .timeout(total)
        .build()
        .expect("a client with rustls and these options always builds")
}

fn builder(destinations: Destinations, connect_timeout: Duration) -> reqwest::ClientBuilder {
    let builder = reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(USER_AGENT);
    match destinations {
        Destinations::AnyAddress => builder,
        Destinations::PublicOnly => builder
            .no_proxy()
            .proxy(outbound::literal_guard())
            .dns_resolver(Arc::new(outbound::PublicResolver)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::{
        net::TcpListener,
        sync::{
            atomic::{AtomicUsize, Ordering},
            Arc,
        },
    };

    /// A listener that counts the connections it accepts and answers each with a 204.
    fn counting_listener(address: &str) -> Option<(u16, Arc<AtomicUsize>)> {
        let listener = TcpListener::bind(address).ok()?;
        let port = listener.local_addr().ok()?.port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                counter.fetch_add(1, Ordering::SeqCst);
                if let Ok(mut stream) = stream {
                    use std::io::{Read, Write};
                    let mut buf = [0u8; 1024];
                    let _ = stream.read(&mut buf);
                    let _ =
                        stream.write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
                }
            }
        });
        Some((port, accepted))
    }

    fn client(destinations: Destinations) -> reqwest::Client {
        build(destinations, Duration::from_secs(2), Duration::from_secs(5))
    }

    #[tokio::test]
    async fn public_only_clients_never_connect_to_local_servers() {
        let (port, accepted) = counting_listener("127.0.0.1:0").unwrap();
        let strict = client(Destinations::PublicOnly);
        for url in [
            format!("http://127.0.0.1:{port}/"),
            format!("http://localhost:{port}/"),
            format!("https://127.0.0.1:{port}/"),
            format!("http://[::ffff:127.0.0.1]:{port}/"),
            format!("http://[::127.0.0.1]:{port}/"),
            format!("http://[64:ff9b::7f00:1]:{port}/"),
        ] {
            let error = strict.get(&url).send().await.expect_err(&url);
            assert!(outbound::is_refusal(&error), "{url}: {error:?}");
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 0, "no connection was made");

        let local = client(Destinations::AnyAddress);
        let answer = local
            .get(format!("http://127.0.0.1:{port}/"))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 204);
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn public_only_clients_refuse_ipv6_loopback_and_link_local() {
        let strict = client(Destinations::PublicOnly);
        if let Some((port, accepted)) = counting_listener("[::1]:0") {
            let error = strict
                .get(format!("http://[::1]:{port}/"))
                .send()
                .await
                .unwrap_err();
            assert!(outbound::is_refusal(&error), "{error:?}");
            assert_eq!(accepted.load(Ordering::SeqCst), 0);
        }
        for url in [
            "http://[fe80::1]/",
            "http://169.254.169.254/latest/meta-data/",
        ] {
            let error = strict.get(url).send().await.unwrap_err();
            assert!(outbound::is_refusal(&error), "{url}: {error:?}");
        }
    }
}
