//! The worker every replica runs: it sends the outbox's due messages, signed with the instance's
//! key, and records how each went. Each pass sends every peer's next message at once, so a slow
//! peer does not hold up the others within it; a peer's messages go one after the other, and the
//! outbox's leases keep two replicas from sending the same message at the same time.

use std::{sync::Arc, time::Duration};

use reqwest::StatusCode;
use service_kit::{
    application::CoreState,
    config::CommonSettings,
    crypto::SecretBox,
    db::{Db, DbError},
    http_client::{self, Destinations},
    time::now_millis,
};
use storage_protocol::{
    client::{ClientError, PeerApi},
    pairing::{PeerMessage, SigningKey},
};
use tokio::{sync::Notify, task::JoinSet, time::MissedTickBehavior};

use crate::{
    keys,
    outbox::{self, Due, Policy},
};

/// How long a peer may take to accept a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// How much of a peer's answer a refusal or failure keeps (characters).
const MAX_REASON_CHARS: usize = 500;

/// Delivers the outbox of this service to its peers. Clones share the wake-up signal: the
/// service keeps one to [`Courier::wake`] and runs another.
#[derive(Debug, Clone)]
pub struct Courier {
    db: Db,
    secret_box: SecretBox,
    /// This service's public URL: the messages' issuer, which the peer checks.
    sender_url: String,
    /// Names the signing key if this instance has none yet ([`keys::signing_key`]).
    kid_prefix: &'static str,
    http: reqwest::Client,
    policy: Policy,
    wake: Arc<Notify>,
}

impl Courier {
    /// A courier for the outbox in `db`, sealed with `secret_box`, signing as `sender_url` with
    /// the instance's key (named `<kid_prefix>-…` when first made), over `http`: the service's
    /// outbound client (`service_kit::http_client`). Each attempt is cut off at half the policy's
    /// lease, so its outcome is recorded before another replica may take the message over.
    pub fn new(
        db: Db,
        secret_box: SecretBox,
        sender_url: &str,
        kid_prefix: &'static str,
        http: reqwest::Client,
        policy: Policy,
    ) -> Self {
        Self {
            db,
            secret_box,
            sender_url: sender_url.trim_end_matches('/').to_string(),
            kid_prefix,
            http,
            policy,
            wake: Arc::new(Notify::new()),
        }
    }

    /// The courier of a service: its database, secret box and public URL, calls to the peers
    /// allowed to reach `destinations`, and waits between attempts up to the configured maximum
    /// (`*_PEER_RETRY_MAX_SECS`).
    pub fn of_service(
        core: &CoreState,
        settings: &CommonSettings,
        kid_prefix: &'static str,
        destinations: Destinations,
    ) -> Self {
        let policy = Policy {
            max_retry_ms: i64::try_from(settings.peer_retry_max.as_millis()).unwrap_or(i64::MAX),
            ..Policy::default()
        };
        let timeout = Duration::from_millis(policy.lease_ms as u64 / 2);
        Self::new(
            core.db.clone(),
            core.secret_box.clone(),
            &core.public_url,
            kid_prefix,
            http_client::build(destinations, CONNECT_TIMEOUT, timeout),
            policy,
        )
    }

    /// How delivery is paced: what the status lines judge "stuck" by.
    pub fn policy(&self) -> Policy {
        self.policy
    }

    /// Starts a pass now instead of at the next tick: call it after a request committed a
    /// message. A wake during a pass starts another after it.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Delivers forever: a pass every second or on [`Courier::wake`], and passes back to back
    /// while they send something (a peer's next message may be due as soon as one went).
    pub async fn run(self) {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                () = self.wake.notified() => {}
            }
            while self.deliver_due(now_millis()).await > 0 {}
        }
    }

    /// One pass at `now` (unix ms): claims each peer's due message, sends them concurrently and
    /// records each outcome. Returns how many it tried to send (whatever the peers answered). Errors are
    /// logged: a message whose outcome could not be recorded is sent again when its lease ends.
    pub async fn deliver_due(&self, now: i64) -> usize {
        let (secret_box, policy, kid_prefix) =
            (self.secret_box.clone(), self.policy, self.kid_prefix);
        let claimed = self
            .db
            .run(move |conn| {
                let due = outbox::claim_due(conn, &secret_box, now, policy.lease_ms)?;
                // Only now: a pass with nothing to send writes nothing, not even a first key.
                let key = (!due.is_empty())
                    .then(|| keys::signing_key(conn, &secret_box, kid_prefix, now));
                Ok::<_, DbError>((due, key))
            })
            .await;
        let (due, key) = match claimed {
            Ok((_, None)) => return 0,
            Ok((due, Some(key))) => (due, key),
            Err(error) => {
                tracing::error!(%error, "claiming the due peer messages failed");
                return 0;
            }
        };
        let key = match key {
            Ok(key) => key,
            Err(error) => {
                tracing::error!(%error, "no key to sign peer messages with");
                let reason = format!("no key to sign the message with: {error}");
                for due in &due {
                    self.record(due, Outcome::RetryLater(reason.clone()), now)
                        .await;
                }
                return 0;
            }
        };
        let mut sending = JoinSet::new();
        for due in due {
            let (courier, key) = (self.clone(), key.clone());
            sending.spawn(async move { courier.deliver(due, &key, now).await });
        }
        let mut sent = 0;
        while let Some(done) = sending.join_next().await {
            match done {
                Ok(()) => sent += 1,
                Err(error) => tracing::error!(%error, "a peer message delivery task failed"),
            }
        }
        sent
    }

    /// Sends one message and records the outcome.
    async fn deliver(&self, due: Due, key: &SigningKey, now: i64) {
        let message = PeerMessage::new(
            &self.sender_url,
            &due.message_id,
            now / 1000,
            due.event.clone(),
        );
        let outcome = match message.sign(key) {
            Ok(signed) => {
                let peer = PeerApi::new(self.http.clone(), &due.peer_url);
                let limit = Duration::from_millis((self.policy.lease_ms / 2).max(1) as u64);
                match tokio::time::timeout(limit, peer.deliver(&due.path, &signed)).await {
                    Ok(answer) => Outcome::of(answer),
                    Err(_) => {
                        Outcome::RetryLater(format!("no answer within {} ms", limit.as_millis()))
                    }
                }
            }
            Err(error) => Outcome::RetryLater(error.to_string()),
        };
        self.record(&due, outcome, now).await;
    }

    /// Logs the outcome (never the event, which may carry a secret) and writes it to the outbox.
    async fn record(&self, due: &Due, outcome: Outcome, now: i64) {
        let attempts = due.attempts + 1;
        match &outcome {
            Outcome::Delivered => tracing::info!(
                peer = %due.peer, message_id = %due.message_id, event_type = %due.event_type,
                attempts, "delivered a message to the peer"
            ),
            Outcome::RetryLater(error) => tracing::warn!(
                peer = %due.peer, message_id = %due.message_id, event_type = %due.event_type,
                attempts, error, retry_in_ms = self.policy.backoff(attempts),
                "a message to the peer did not go through; it is sent again later"
            ),
            Outcome::Refused(error) => tracing::error!(
                peer = %due.peer, message_id = %due.message_id, event_type = %due.event_type,
                attempts, error, "the peer refused a message for good"
            ),
        }
        let (id, policy) = (due.id, self.policy);
        let recorded = self
            .db
            .run(move |conn| {
                match &outcome {
                    Outcome::Delivered => outbox::delivered(conn, id, now),
                    Outcome::RetryLater(error) => {
                        outbox::retry_later(conn, id, now, error, &policy)
                    }
                    Outcome::Refused(error) => outbox::refused(conn, id, now, error),
                }
                .map_err(DbError::from)
            })
            .await;
        if let Err(error) = recorded {
            tracing::error!(
                peer = %due.peer, message_id = %due.message_id, %error,
                "recording a peer message's delivery failed; it is sent again when its lease ends"
            );
        }
    }
}

/// How an attempt went, with the reason shown on the status line when it did not go through.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Delivered,
    /// It may go through later: the peer was unreachable, failing, overloaded or slow.
    RetryLater(String),
    /// The peer refused the request itself (a 4xx): sending it again would get the same answer.
    Refused(String),
}

impl Outcome {
    fn of(answer: Result<(), ClientError>) -> Self {
        let error = match answer {
            Ok(()) => return Self::Delivered,
            Err(error) => error,
        };
        let reason = match &error {
            ClientError::Status { status, body } if body.trim().is_empty() => status.to_string(),
            ClientError::Status { status, body } => format!("{status}: {}", body.trim()),
            other => describe(other),
        };
        let reason = truncated(reason);
        match error {
            ClientError::Status { status, .. }
                if status.is_client_error()
                    && status != StatusCode::REQUEST_TIMEOUT
                    && status != StatusCode::TOO_MANY_REQUESTS =>
            {
                Self::Refused(reason)
            }
            _ => Self::RetryLater(reason),
        }
    }
}

/// `error` and the causes its text does not already include ("error sending request: …:
/// connection refused"), for an admin to read.
fn describe(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text = format!("{text}: {cause_text}");
        }
        source = cause.source();
    }
    text
}

fn truncated(text: String) -> String {
    match text.char_indices().nth(MAX_REASON_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text,
    }
}

#[cfg(test)]
mod tests;
