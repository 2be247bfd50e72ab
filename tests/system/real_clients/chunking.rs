//! Chunked uploads as Nextcloud defines them, step by step over HTTP: v2 (MKCOL an upload
//! folder, PUT numbered chunks, MOVE `.file` to the `Destination`), its abort, privacy and
//! quota, uploads cut off mid-body, concurrent uploads to one file, and the legacy v1 chunks
//! (`<name>-chunking-<transfer>-<count>-<index>` with `OC-Chunked: 1`).

use std::time::{Duration, Instant};

use integration_tests::{
    clients::{file_count, pseudo_random, sha1_hex},
    dav::{describe, ChunkedUpload, DavClient, DavServer},
};
use reqwest::{Method, StatusCode};

const MIB: usize = 1024 * 1024;

/// As an admin, sets `uid`'s quota the way Nextcloud's provisioning API does:
/// `PUT /ocs/v1.php/cloud/users/{uid}` with `key=quota&value=<bytes>`.
pub async fn set_quota(server: &DavServer, uid: &str, value: &str) {
    let admin = server.admin();
    let response = admin
        .request(
            Method::PUT,
            &format!("{}/ocs/v1.php/cloud/users/{uid}", server.url()),
        )
        .header("OCS-APIRequest", "true")
        .form(&[("key", "quota"), ("value", value)])
        .send()
        .await
        .expect("provisioning request");
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    assert!(
        status == StatusCode::OK && body.contains("<statuscode>100</statuscode>"),
        "PUT /ocs/v1.php/cloud/users/{uid} key=quota value={value}: {status} {body}"
    );
}

/// Waits (at most 10 s) until `done` holds: servers notice a dropped connection in their own
/// time.
async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "{what} within 10 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The PROPFIND of an upload folder: its chunks' names.
async fn chunks_of(upload: &ChunkedUpload) -> (StatusCode, Vec<String>) {
    let (status, entries, _) = upload.dav.propfind(&upload.folder_url(), "1").await;
    let folder = format!("/remote.php/dav/uploads/{}/{}", upload.owner, upload.id);
    let names = entries
        .into_iter()
        .map(|e| e.href.trim_end_matches('/').to_string())
        .filter(|href| *href != folder)
        .map(|href| href.rsplit('/').next().unwrap_or_default().to_string())
        .collect();
    (status, names)
}

async fn expect(response: reqwest::Response, expected: &[u16], step: &str) {
    let status = response.status().as_u16();
    if !expected.contains(&status) {
        panic!(
            "{step}: expected {expected:?}, got {}",
            describe(response).await
        );
    }
}

#[tokio::test]
async fn capabilities_advertise_chunking_v2() {
    let server = DavServer::spawn(None);
    let response = server
        .admin()
        .request(
            Method::GET,
            &format!("{}/ocs/v1.php/cloud/capabilities?format=json", server.url()),
        )
        .header("OCS-APIRequest", "true")
        .send()
        .await
        .expect("capabilities");
    let body: serde_json::Value = response.json().await.expect("JSON");
    // What the desktop client reads to choose chunking v2 over the legacy chunks.
    assert_eq!(
        body["ocs"]["data"]["capabilities"]["dav"]["chunking"], "1.0",
        "{}",
        body["ocs"]["data"]["capabilities"]
    );
}

#[tokio::test]
async fn chunks_are_assembled_in_the_order_of_their_names() {
    let server = DavServer::spawn(None);
    let dav = server.admin();
    // Names 1..11 sent last to first: "10" and "11" come after "9" (natural order, as
    // Nextcloud sorts them), and the order of arrival does not matter.
    let chunks: Vec<(String, Vec<u8>)> = (1..=11)
        .map(|i| (i.to_string(), pseudo_random(64 * 1024 + i, i as u64)))
        .collect();
    // Zero-padded names, as several clients send them.
    let padded: Vec<(String, Vec<u8>)> = (1..=3)
        .map(|i| {
            (
                format!("{i:05}"),
                pseudo_random(100_000 + i, 100 + i as u64),
            )
        })
        .collect();
    for (id, destination, chunks) in [
        ("upload-order-1", "Zusammengesetzt ä.bin", chunks),
        ("upload-order-2", "Ordner/gepolstert.bin", padded),
    ] {
        if destination.contains('/') {
            let response = dav
                .dav("MKCOL", &dav.file_url("Ordner"))
                .send()
                .await
                .unwrap();
            expect(response, &[201], "MKCOL Ordner").await;
        }
        let upload = dav.chunked_upload(id, destination);
        let total: usize = chunks.iter().map(|(_, c)| c.len()).sum();
        expect(
            upload.mkcol(None).await,
            &[201],
            "MKCOL of the upload folder",
        )
        .await;
        for (name, content) in chunks.iter().rev() {
            let response = upload.put_chunk(name, content.clone(), total as u64).await;
            expect(response, &[201], &format!("PUT chunk {name}")).await;
        }
        let (status, mut listed) = chunks_of(&upload).await;
        listed.sort();
        let mut names: Vec<String> = chunks.iter().map(|(n, _)| n.clone()).collect();
        names.sort();
        assert_eq!((status, listed), (StatusCode::MULTI_STATUS, names));

        let moved = upload.assemble(total as u64).await;
        let headers = moved.headers().clone();
        expect(moved, &[201], "MOVE .file").await;
        for header in ["OC-FileId", "ETag"] {
            assert!(
                headers.contains_key(header),
                "MOVE answered without {header}"
            );
        }
        let whole: Vec<u8> = chunks.iter().flat_map(|(_, c)| c.clone()).collect();
        assert_eq!(dav.sha1(destination).await, sha1_hex(&whole));
        // The upload folder is gone once assembled.
        assert_eq!(chunks_of(&upload).await.0, StatusCode::NOT_FOUND);
    }
    let tree = dav.tree().await;
    assert_eq!(
        tree.keys().collect::<Vec<_>>(),
        ["Ordner/gepolstert.bin", "Zusammengesetzt ä.bin"]
    );
}

#[tokio::test]
async fn aborting_an_upload_leaves_nothing() {
    let server = DavServer::spawn(None);
    let dav = server.admin();
    let _ = dav.tree().await;
    let baseline = file_count(server.data_dir.path());
    let upload = dav.chunked_upload("upload-abort", "abgebrochen.bin");
    expect(upload.mkcol(None).await, &[201], "MKCOL").await;
    for name in ["1", "2"] {
        let response = upload.put_chunk(name, vec![1u8; MIB], 3 * MIB as u64).await;
        expect(response, &[201], &format!("PUT chunk {name}")).await;
    }
    expect(upload.abort().await, &[204], "DELETE of the upload folder").await;

    assert_eq!(chunks_of(&upload).await.0, StatusCode::NOT_FOUND);
    expect(
        upload.assemble(3 * MIB as u64).await,
        &[404],
        "MOVE after the abort",
    )
    .await;
    assert_eq!(dav.get("abgebrochen.bin").await.0, StatusCode::NOT_FOUND);
    assert!(dav.tree().await.is_empty());
    let data_dir = server.data_dir.path().to_path_buf();
    eventually("the chunks' contents removed from the data folder", || {
        file_count(&data_dir) == baseline
    })
    .await;
}

#[tokio::test]
async fn uploads_are_private_to_their_owner() {
    let server = DavServer::spawn(None);
    let admin = server.admin();
    let bob = server.create_user("bob", "bob-password-1234").await;
    let upload = admin.chunked_upload("upload-private", "privat.bin");
    expect(upload.mkcol(None).await, &[201], "MKCOL").await;
    let first = pseudo_random(MIB, 81);
    expect(
        upload.put_chunk("1", first.clone(), MIB as u64).await,
        &[201],
        "PUT chunk 1",
    )
    .await;

    // Bob names the admin's upload folder: it does not exist for him.
    let intruder = ChunkedUpload {
        dav: bob.clone(),
        owner: upload.owner.clone(),
        id: upload.id.clone(),
        destination: bob.file_url("gestohlen.bin"),
    };
    assert_eq!(chunks_of(&intruder).await.0, StatusCode::NOT_FOUND);
    let steps = [
        (
            "PUT chunk 2",
            intruder.put_chunk("2", vec![6u8; 1000], MIB as u64).await,
        ),
        ("MOVE .file", intruder.assemble(MIB as u64).await),
        ("DELETE", intruder.abort().await),
    ];
    for (step, response) in steps {
        expect(response, &[404], &format!("bob's {step} in admin's upload")).await;
    }
    assert!(bob.tree().await.is_empty());

    // The owner's upload is untouched.
    expect(upload.assemble(MIB as u64).await, &[201], "admin's MOVE").await;
    assert_eq!(admin.sha1("privat.bin").await, sha1_hex(&first));
}

#[tokio::test]
async fn an_upload_over_quota_is_refused_with_507() {
    let server = DavServer::spawn(None);
    let bob = server.create_user("bob", "bob-password-1234").await;
    set_quota(&server, "bob", &MIB.to_string()).await;
    let user: serde_json::Value = server
        .admin()
        .request(
            Method::GET,
            &format!("{}/ocs/v1.php/cloud/users/bob?format=json", server.url()),
        )
        .header("OCS-APIRequest", "true")
        .send()
        .await
        .expect("user")
        .json()
        .await
        .expect("JSON");
    assert_eq!(user["ocs"]["data"]["quota"]["quota"], MIB, "{user}");

    expect(
        bob.put("zu groß.bin", vec![1u8; 2 * MIB]).await,
        &[507],
        "PUT over the quota",
    )
    .await;
    assert_eq!(bob.get("zu groß.bin").await.0, StatusCode::NOT_FOUND);
    expect(
        bob.put("passt.bin", vec![2u8; MIB / 2]).await,
        &[201],
        "PUT within the quota",
    )
    .await;

    // A chunked upload over what is left is refused by one of its steps, at the latest when
    // it is assembled.
    let upload = bob.chunked_upload("upload-quota", "auch zu groß.bin");
    let total = 2 * MIB as u64;
    let mut refused = None;
    for step in ["MKCOL", "PUT 1", "PUT 2", "MOVE"] {
        let response = match step {
            "MKCOL" => upload.mkcol(Some(total)).await,
            "PUT 1" => upload.put_chunk("1", vec![3u8; MIB], total).await,
            "PUT 2" => upload.put_chunk("2", vec![4u8; MIB], total).await,
            _ => upload.assemble(total).await,
        };
        if !response.status().is_success() {
            refused = Some((step, describe(response).await));
            break;
        }
    }
    let (step, answer) = refused.expect("a chunked upload over the quota was accepted");
    assert!(answer.starts_with("507"), "{step}: {answer}");
    assert_eq!(bob.get("auch zu groß.bin").await.0, StatusCode::NOT_FOUND);

    let properties = bob
        .root_properties(&["d:quota-available-bytes", "d:quota-used-bytes"])
        .await;
    assert!(
        properties.contains(&format!(
            "<d:quota-available-bytes>{}</d:quota-available-bytes>",
            MIB / 2
        )) && properties.contains(&format!(
            "<d:quota-used-bytes>{}</d:quota-used-bytes>",
            MIB / 2
        )),
        "{properties}"
    );
}

#[tokio::test]
async fn an_interrupted_put_leaves_no_file() {
    let server = DavServer::spawn(None);
    let dav = server.admin();
    let _ = dav.tree().await;
    let baseline = file_count(server.data_dir.path());
    dav.interrupted_put(&dav.file_url("unterbrochen.bin"), 10 * MIB, 2 * MIB)
        .await;
    assert_eq!(dav.get("unterbrochen.bin").await.0, StatusCode::NOT_FOUND);
    assert!(dav.tree().await.is_empty(), "{:?}", dav.tree().await);
    let data_dir = server.data_dir.path().to_path_buf();
    eventually("the partial upload removed from the data folder", || {
        file_count(&data_dir) == baseline
    })
    .await;
    // The name is free for a whole upload afterwards.
    expect(
        dav.put("unterbrochen.bin", vec![5u8; 1000]).await,
        &[201],
        "PUT after the interrupted one",
    )
    .await;
}

#[tokio::test]
async fn an_interrupted_chunk_leaves_no_chunk() {
    let server = DavServer::spawn(None);
    let dav = server.admin();
    let upload = dav.chunked_upload("upload-cut", "Stück für Stück.bin");
    expect(upload.mkcol(None).await, &[201], "MKCOL").await;
    let _ = chunks_of(&upload).await;
    let baseline = file_count(server.data_dir.path());
    dav.interrupted_put(&upload.chunk_url("1"), 4 * MIB, MIB)
        .await;
    let data_dir = server.data_dir.path().to_path_buf();
    eventually("the partial chunk removed from the data folder", || {
        file_count(&data_dir) == baseline
    })
    .await;
    assert_eq!(
        chunks_of(&upload).await,
        (StatusCode::MULTI_STATUS, Vec::new())
    );
    // The client sends the chunk again and finishes.
    let content = pseudo_random(MIB, 91);
    expect(
        upload.put_chunk("1", content.clone(), MIB as u64).await,
        &[201],
        "PUT chunk 1 again",
    )
    .await;
    expect(upload.assemble(MIB as u64).await, &[201], "MOVE .file").await;
    assert_eq!(dav.sha1("Stück für Stück.bin").await, sha1_hex(&content));
}

/// Of concurrent uploads of `contents` to one file, the outcome: each response's status, and
/// the file's SHA-1 afterwards, which must be that of one upload that succeeded.
fn assert_one_whole_upload(round: usize, statuses: &[u16], contents: &[Vec<u8>], final_sha1: &str) {
    // 423 Locked is how Nextcloud refuses a write while another holds the file.
    assert!(
        statuses.iter().all(|s| (200..300).contains(s) || *s == 423),
        "round {round}: {statuses:?}"
    );
    let winners: Vec<String> = statuses
        .iter()
        .zip(contents)
        .filter(|(s, _)| (200..300).contains(*s))
        .map(|(_, c)| sha1_hex(c))
        .collect();
    assert!(
        winners.iter().any(|w| w == final_sha1),
        "round {round}: the file is none of the successful uploads (a mix or a truncation): \
         {statuses:?}"
    );
}

#[tokio::test]
async fn concurrent_puts_to_one_file_end_with_one_whole_file() {
    let server = DavServer::spawn(None);
    let dav = server.admin();
    for round in 0..3 {
        let contents = [
            pseudo_random(6 * MIB, 200 + round as u64),
            pseudo_random(6 * MIB + 3, 300 + round as u64),
        ];
        let (a, b) = tokio::join!(
            dav.put("gleichzeitig.bin", contents[0].clone()),
            dav.put("gleichzeitig.bin", contents[1].clone())
        );
        let statuses = [a.status().as_u16(), b.status().as_u16()];
        let sha1 = dav.sha1("gleichzeitig.bin").await;
        assert_one_whole_upload(round, &statuses, &contents, &sha1);
    }
}

#[tokio::test]
async fn concurrent_chunked_uploads_to_one_file_end_with_one_whole_file() {
    let server = DavServer::spawn(None);
    let dav = server.admin();
    for round in 0..3 {
        let mut uploads: Vec<(ChunkedUpload, Vec<u8>)> = Vec::new();
        for who in 0..2u64 {
            let upload = dav.chunked_upload(&format!("upload-race-{round}-{who}"), "Wettlauf.bin");
            expect(upload.mkcol(None).await, &[201], "MKCOL").await;
            let mut whole = Vec::new();
            for part in 1..=3u64 {
                let content = pseudo_random(MIB, 1000 * who + 10 * part + round as u64);
                whole.extend_from_slice(&content);
                let response = upload
                    .put_chunk(&part.to_string(), content, 3 * MIB as u64)
                    .await;
                expect(response, &[201], &format!("PUT chunk {part}")).await;
            }
            uploads.push((upload, whole));
        }
        let total = 3 * MIB as u64;
        let (a, b) = tokio::join!(uploads[0].0.assemble(total), uploads[1].0.assemble(total));
        let statuses = [a.status().as_u16(), b.status().as_u16()];
        let contents: Vec<Vec<u8>> = uploads.iter().map(|(_, c)| c.clone()).collect();
        let sha1 = dav.sha1("Wettlauf.bin").await;
        assert_one_whole_upload(round, &statuses, &contents, &sha1);
    }
}

/// The legacy chunks of one file, sent in `order`: only the chunk that completes the set
/// answers with the file's ETag and id, and only then the file exists.
async fn legacy_upload(
    dav: &DavClient,
    path: &str,
    transfer: u64,
    chunks: &[Vec<u8>],
    order: &[usize],
) {
    for (sent, &index) in order.iter().enumerate() {
        let response = dav
            .put_legacy_chunk(path, transfer, chunks.len(), index, chunks[index].clone())
            .await;
        let last = sent + 1 == order.len();
        let headers = response.headers().clone();
        let answer = describe(response).await;
        assert!(answer.starts_with("201"), "{path} chunk {index}: {answer}");
        for header in ["OC-FileId", "ETag"] {
            // The desktop client takes an ETag on any chunk as "the upload is complete".
            assert_eq!(
                headers.contains_key(header),
                last,
                "{path} chunk {index} ({} of {}): {answer}",
                sent + 1,
                order.len()
            );
        }
        if !last {
            assert_eq!(
                dav.get(path).await.0,
                StatusCode::NOT_FOUND,
                "{path} before its last chunk"
            );
        }
    }
}

#[tokio::test]
async fn legacy_chunks_are_assembled_when_the_last_arrives() {
    let server = DavServer::spawn(None);
    let dav = server.admin();
    let first: Vec<Vec<u8>> = [MIB, MIB, 100]
        .iter()
        .enumerate()
        .map(|(i, len)| pseudo_random(*len, 400 + i as u64))
        .collect();
    legacy_upload(&dav, "Übersicht März.bin", 4711, &first, &[0, 1, 2]).await;
    let second: Vec<Vec<u8>> = (0..3)
        .map(|i| pseudo_random(200_000 + i, 500 + i as u64))
        .collect();
    legacy_upload(&dav, "zweite Datei.bin", 4712, &second, &[2, 0, 1]).await;

    let tree = dav.tree().await;
    assert_eq!(
        tree.keys().collect::<Vec<_>>(),
        ["zweite Datei.bin", "Übersicht März.bin"],
        "no chunk may stay as a file of its own"
    );
    assert_eq!(
        dav.sha1("Übersicht März.bin").await,
        sha1_hex(&first.concat())
    );
    assert_eq!(
        dav.sha1("zweite Datei.bin").await,
        sha1_hex(&second.concat())
    );
}
