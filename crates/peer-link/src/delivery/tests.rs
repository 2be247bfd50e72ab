use std::{
    collections::{HashMap, HashSet, VecDeque},
    io::{BufRead, BufReader, Read, Write},
    net::{TcpListener, TcpStream},
    sync::{
        atomic::{AtomicBool, Ordering},
        Mutex,
    },
};

use diesel::prelude::*;
use service_kit::{
    crypto::SecretKey,
    db::{AnyConnection, QueryOnBackend},
};
use storage_protocol::pairing::{PeerEvent, MESSAGE_MEDIA_TYPE};

use super::*;
use crate::{
    outbox::{enqueue, last_exchange, Destination, ExchangeState},
    schema::peer_outbox,
    tests::test_db,
};

const SENDER: &str = "https://openproject.example.com";
const NOW: i64 = 1_780_000_000_000;

/// What the receiver was sent.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    content_type: String,
    body: String,
}

/// A peer's message endpoint on a loopback port: answers each request with the next canned
/// answer (204 once they are used up), one request at a time, and keeps what it was sent.
struct Receiver {
    url: String,
    received: Arc<Mutex<Vec<Received>>>,
    stopped: Arc<AtomicBool>,
}

impl Receiver {
    fn start(answers: &[(u16, &'static str)]) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let received = Arc::new(Mutex::new(Vec::new()));
        let stopped = Arc::new(AtomicBool::new(false));
        let mut answers: VecDeque<(u16, &'static str)> = answers.iter().copied().collect();
        let (log, stop) = (received.clone(), stopped.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                let answer = answers.pop_front().unwrap_or((204, ""));
                if let Ok(request) = stream.and_then(|stream| serve(stream, answer)) {
                    log.lock().unwrap().push(request);
                }
            }
        });
        Self {
            url,
            received,
            stopped,
        }
    }

    fn destination(&self, peer: &str) -> Destination {
        Destination {
            peer: peer.to_string(),
            peer_url: self.url.clone(),
            path: format!("/peer-messages/{peer}"),
        }
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

/// Ends the thread: it sees the flag on the next connection, this one.
impl Drop for Receiver {
    fn drop(&mut self) {
        self.stopped.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.url.trim_start_matches("http://"));
    }
}

/// Reads one request and writes `answer`, closing the connection.
fn serve(mut stream: TcpStream, (status, body): (u16, &str)) -> std::io::Result<Received> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_string();
    let (mut length, mut content_type) = (0, String::new());
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let Some((name, value)) = line.trim_end().split_once(':') else {
            break;
        };
        match name.to_ascii_lowercase().as_str() {
            "content-length" => length = value.trim().parse().unwrap_or(0),
            "content-type" => content_type = value.trim().to_string(),
            _ => {}
        }
    }
    let mut request_body = vec![0; length];
    reader.read_exact(&mut request_body)?;
    write!(
        stream,
        "HTTP/1.1 {status} Canned\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )?;
    Ok(Received {
        path,
        content_type,
        body: String::from_utf8_lossy(&request_body).into_owned(),
    })
}

fn courier(db: &Db, secret_box: &SecretBox) -> Courier {
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    Courier::new(
        db.clone(),
        secret_box.clone(),
        SENDER,
        "op",
        http,
        Policy::default(),
    )
}

/// The message in `received`, checked as the receiver checks it: signed by the sender's
/// published key, from the sender, fresh at `now`.
fn opened(conn: &mut AnyConnection, secret_box: &SecretBox, received: &Received) -> PeerMessage {
    let keys = keys::public_keys(conn, secret_box).unwrap();
    PeerMessage::verify(&received.body, &keys, SENDER, NOW / 1000).unwrap()
}

fn replaced(secret: &str) -> PeerEvent {
    PeerEvent::OAuthValuesReplaced {
        client_id: "client".into(),
        client_secret: secret.into(),
    }
}

#[test]
fn only_client_errors_other_than_timeout_and_overload_are_refusals() {
    let status = |code: u16, body: &str| {
        Outcome::of(Err(ClientError::Status {
            status: StatusCode::from_u16(code).unwrap(),
            body: body.to_string(),
        }))
    };
    assert_eq!(Outcome::of(Ok(())), Outcome::Delivered);
    assert_eq!(
        status(401, "unknown key\n"),
        Outcome::Refused("401 Unauthorized: unknown key".into())
    );
    assert_eq!(
        status(422, ""),
        Outcome::Refused("422 Unprocessable Entity".into())
    );
    for code in [408, 429, 500, 502, 503] {
        assert!(matches!(status(code, ""), Outcome::RetryLater(_)), "{code}");
    }
    let Outcome::Refused(reason) = status(400, &"é".repeat(2_000)) else {
        panic!("a 400 is a refusal");
    };
    assert_eq!(
        reason.chars().count(),
        MAX_REASON_CHARS + 1,
        "cut, with an ellipsis"
    );
}

#[tokio::test]
async fn an_unreachable_peer_is_retried_with_the_cause() {
    let (_database, db) = test_db();
    let secret_box = SecretKey::generate().secret_box();
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let destination = Destination {
        peer: "openproject".into(),
        peer_url: format!("http://{}", closed.local_addr().unwrap()),
        path: "/peer-messages".into(),
    };
    drop(closed);
    enqueue(
        &mut db.get().unwrap(),
        &secret_box,
        &destination,
        &replaced("s3cret"),
        NOW,
    )
    .unwrap();
    assert_eq!(courier(&db, &secret_box).deliver_due(NOW).await, 1);
    let shown = last_exchange(&mut db.get().unwrap(), "openproject", &Policy::default())
        .unwrap()
        .unwrap();
    assert_eq!((shown.state, shown.attempts), (ExchangeState::Pending, 1));
    let reason = shown.last_error.unwrap();
    assert!(reason.contains("request failed"), "{reason}");
    assert!(!reason.contains("s3cret"));
}

#[tokio::test]
async fn without_a_key_that_opens_nothing_is_sent_and_the_status_says_why() {
    let (_database, db) = test_db();
    let secret_box = SecretKey::generate().secret_box();
    let receiver = Receiver::start(&[]);
    let conn = &mut db.get().unwrap();
    // The key was sealed under another secret key than the service has now.
    keys::signing_key(conn, &SecretKey::generate().secret_box(), "op", NOW).unwrap();
    enqueue(
        conn,
        &secret_box,
        &receiver.destination("openproject"),
        &replaced("1"),
        NOW,
    )
    .unwrap();
    assert_eq!(courier(&db, &secret_box).deliver_due(NOW).await, 0);
    let shown = last_exchange(conn, "openproject", &Policy::default())
        .unwrap()
        .unwrap();
    assert_eq!((shown.state, shown.attempts), (ExchangeState::Pending, 1));
    let reason = shown.last_error.unwrap();
    assert!(
        reason.starts_with("no key to sign the message with: the pairing key op-"),
        "{reason}"
    );
    assert!(receiver.received().is_empty());
}

#[tokio::test]
async fn a_failed_delivery_is_sent_again_with_the_same_id_and_a_valid_signature() {
    let (_database, db) = test_db();
    let secret_box = SecretKey::generate().secret_box();
    let receiver = Receiver::start(&[(503, "down for maintenance")]);
    let event = replaced("s3cret");
    let id = enqueue(
        &mut db.get().unwrap(),
        &secret_box,
        &receiver.destination("storage:3"),
        &event,
        NOW,
    )
    .unwrap();
    let courier = courier(&db, &secret_box);
    let policy = Policy::default();

    assert_eq!(courier.deliver_due(NOW).await, 1);
    let shown = last_exchange(&mut db.get().unwrap(), "storage:3", &policy)
        .unwrap()
        .unwrap();
    assert_eq!((shown.state, shown.attempts), (ExchangeState::Pending, 1));
    assert_eq!(
        shown.last_error.as_deref(),
        Some("503 Service Unavailable: down for maintenance")
    );
    assert_eq!(courier.deliver_due(NOW + 999).await, 0, "backing off");
    assert_eq!(courier.deliver_due(NOW + 1_000).await, 1);
    let shown = last_exchange(&mut db.get().unwrap(), "storage:3", &policy)
        .unwrap()
        .unwrap();
    assert_eq!(
        (shown.state, shown.attempts, shown.at),
        (ExchangeState::Delivered, 2, NOW + 1_000)
    );

    let received = receiver.received();
    assert_eq!(received.len(), 2);
    let conn = &mut db.get().unwrap();
    for request in &received {
        assert_eq!(request.path, "/peer-messages/storage:3");
        assert_eq!(request.content_type, MESSAGE_MEDIA_TYPE);
        let message = opened(conn, &secret_box, request);
        assert_eq!(
            (message.jti.as_str(), &message.event),
            (id.as_str(), &event)
        );
    }
}

#[tokio::test]
async fn a_refused_message_lets_the_next_one_of_its_peer_go() {
    let (_database, db) = test_db();
    let secret_box = SecretKey::generate().secret_box();
    let receiver = Receiver::start(&[(401, "The message's key is not known.")]);
    let destination = receiver.destination("openproject");
    let (first, second) = {
        let conn = &mut db.get().unwrap();
        (
            enqueue(conn, &secret_box, &destination, &replaced("1"), NOW).unwrap(),
            enqueue(
                conn,
                &secret_box,
                &destination,
                &PeerEvent::IntegrationReset,
                NOW,
            )
            .unwrap(),
        )
    };
    let courier = courier(&db, &secret_box);

    assert_eq!(courier.deliver_due(NOW).await, 1);
    let refusal: (Option<i64>, Option<String>) = peer_outbox::table
        .filter(peer_outbox::message_id.eq(&first))
        .select((peer_outbox::failed_at, peer_outbox::last_error))
        .first_on(&mut db.get().unwrap())
        .unwrap();
    assert_eq!(
        refusal,
        (
            Some(NOW),
            Some("401 Unauthorized: The message's key is not known.".into())
        )
    );
    assert_eq!(
        courier.deliver_due(NOW).await,
        1,
        "no backoff after a refusal"
    );
    let shown = last_exchange(&mut db.get().unwrap(), "openproject", &Policy::default())
        .unwrap()
        .unwrap();
    assert_eq!(
        (shown.message_id, shown.state),
        (second.clone(), ExchangeState::Delivered)
    );
    let conn = &mut db.get().unwrap();
    let sent: Vec<String> = receiver
        .received()
        .iter()
        .map(|request| opened(conn, &secret_box, request).jti)
        .collect();
    assert_eq!(sent, [first, second]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_replicas_send_each_message_once_and_each_peers_in_order() {
    let (database, db) = test_db();
    let other_replica = Db::connect(&database.url).unwrap();
    let secret_box = SecretKey::generate().secret_box();
    let receiver = Receiver::start(&[]);
    let peers: Vec<String> = (1..=6).map(|n| format!("storage:{n}")).collect();
    {
        let conn = &mut db.get().unwrap();
        for n in 0..3 {
            for peer in &peers {
                let event = replaced(&format!("{peer}/{n}"));
                enqueue(conn, &secret_box, &receiver.destination(peer), &event, NOW).unwrap();
            }
        }
    }
    let (one, two) = (
        courier(&db, &secret_box),
        courier(&other_replica, &secret_box),
    );
    let mut passes = 0;
    loop {
        let (a, b) = tokio::join!(one.deliver_due(NOW), two.deliver_due(NOW));
        if a + b == 0 {
            break;
        }
        passes += 1;
        assert!(passes < 20, "the outbox does not drain");
    }

    let conn = &mut db.get().unwrap();
    let received = receiver.received();
    assert_eq!(received.len(), 18, "each message once");
    let ids: HashSet<String> = received
        .iter()
        .map(|request| opened(conn, &secret_box, request).jti)
        .collect();
    assert_eq!(ids.len(), 18);
    let mut secrets: HashMap<String, Vec<String>> = HashMap::new();
    for request in &received {
        let PeerEvent::OAuthValuesReplaced { client_secret, .. } =
            opened(conn, &secret_box, request).event
        else {
            panic!("an event that was not sent");
        };
        let peer = request.path.trim_start_matches("/peer-messages/");
        secrets
            .entry(peer.to_string())
            .or_default()
            .push(client_secret);
    }
    for peer in &peers {
        let expected: Vec<String> = (0..3).map(|n| format!("{peer}/{n}")).collect();
        assert_eq!(secrets[peer], expected, "{peer} in order");
    }
}
