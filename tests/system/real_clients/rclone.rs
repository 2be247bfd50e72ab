//! rclone's webdav backend with `vendor = nextcloud`: copy, sync, check by SHA-1 (from
//! `oc:checksums`), server-side copy and move (COPY, MOVE), ranged reads, a multi-threaded
//! download (parallel Range requests) and `about` (quota properties).
//!
//! rclone 1.60 (Debian 12) has no chunked upload for Nextcloud (`--webdav-nextcloud-chunk-size`
//! came later), so its uploads here are single PUTs; `nextcloudcmd` and `chunking.rs` cover
//! chunks.

use std::collections::BTreeMap;

use integration_tests::{
    clients::{client_installed, local_tree, sha1_hex, Rclone, TempDir, TestFile},
    dav::{DavClient, DavServer},
    ADMIN, NCOA_ADMIN_PASSWORD,
};

const MIB: usize = 1024 * 1024;

/// A server and rclone for its admin, or `None` when rclone is missing (outside CI).
async fn rclone_and_server() -> Option<(Rclone, DavServer)> {
    if !client_installed(Rclone::COMMAND) {
        return None;
    }
    let server = DavServer::spawn(None);
    let rclone = Rclone::new(server.url(), ADMIN, NCOA_ADMIN_PASSWORD).await;
    Some((rclone, server))
}

fn local_files() -> Vec<TestFile> {
    vec![
        TestFile::new("leer.txt", 0, 21),
        TestFile::new("a.txt", 1000, 22),
        TestFile::new("Größe ü.bin", 3 * MIB, 23),
        TestFile::new("Ordner mit Leerzeichen/Übersicht März.bin", 20 * MIB, 24),
    ]
}

/// The server's files below `folder` with their SHA-1 (by GET), relative to `folder`.
async fn server_files(dav: &DavClient, folder: &str) -> BTreeMap<String, String> {
    let prefix = format!("{folder}/");
    let mut files = BTreeMap::new();
    for path in dav.tree().await.into_keys() {
        if let Some(relative) = path.strip_prefix(&prefix) {
            files.insert(relative.to_string(), dav.sha1(&path).await);
        }
    }
    files
}

/// `rclone sha1sum` output as path → hash (an empty hash when the remote has none).
fn sha1sums(output: &str) -> BTreeMap<String, String> {
    output
        .lines()
        .filter(|line| line.len() > 42)
        .map(|line| (line[42..].to_string(), line[..40].trim().to_string()))
        .collect()
}

#[tokio::test]
async fn copy_then_check_compares_sha1_hashes() {
    let Some((rclone, server)) = rclone_and_server().await else {
        return;
    };
    let dav = server.admin();
    let local = TempDir::new("rclone-copy");
    let mut expected = BTreeMap::new();
    for file in local_files() {
        expected.insert(file.path.clone(), file.write_below(local.path()));
    }
    let source = local.path().to_string_lossy().into_owned();
    rclone.ok(&["copy", &source, "nc:rc"]).await;
    assert_eq!(server_files(&dav, "rc").await, expected);

    // rclone sends OC-Checksum with each upload; the server returns it as oc:checksums. A file
    // uploaded without one gets its SHA-1 computed by the server.
    let plain = TestFile::new("ohne Prüfsumme.bin", MIB, 25);
    assert!(dav
        .put(&format!("rc/{}", plain.path), plain.content())
        .await
        .status()
        .is_success());
    expected.insert(plain.path.clone(), sha1_hex(&plain.content()));
    let sums = rclone.ok(&["sha1sum", "nc:rc"]).await;
    assert_eq!(
        sha1sums(&sums.stdout_text()),
        expected,
        "rclone sha1sum nc:rc (an empty hash means no oc:checksums):\n{}",
        sums.stdout_text()
    );

    // `check` compares by hash when both sides have one: SHA-1 here.
    plain.write_below(local.path());
    let check = rclone.ok(&["check", &source, "nc:rc"]).await;
    assert!(
        !check.stderr.contains("No common hash found"),
        "rclone check fell back to sizes only:\n{}",
        check.stderr
    );
    assert!(
        check.stderr.contains("0 differences found"),
        "{}",
        check.stderr
    );
}

#[tokio::test]
async fn sync_mirrors_additions_changes_and_deletions() {
    let Some((rclone, server)) = rclone_and_server().await else {
        return;
    };
    let dav = server.admin();
    let local = TempDir::new("rclone-sync");
    for file in local_files() {
        file.write_below(local.path());
    }
    let source = local.path().to_string_lossy().into_owned();
    rclone.ok(&["sync", &source, "nc:rc"]).await;

    std::fs::remove_file(local.join("a.txt")).expect("removed");
    TestFile::new("Größe ü.bin", 3 * MIB + 5, 31).write_below(local.path());
    TestFile::new("Neu/neu ä.txt", 4096, 32).write_below(local.path());
    rclone.ok(&["sync", &source, "nc:rc"]).await;

    let expected = local_tree(local.path(), |_| false);
    assert_eq!(server_files(&dav, "rc").await, expected);
    let check = rclone.ok(&["check", &source, "nc:rc"]).await;
    assert!(
        check.stderr.contains("0 differences found"),
        "{}",
        check.stderr
    );
}

#[tokio::test]
async fn server_side_copy_and_move() {
    let Some((rclone, server)) = rclone_and_server().await else {
        return;
    };
    let dav = server.admin();
    let file = TestFile::new("Quelle ä.bin", 2 * MIB, 41);
    assert!(dav
        .put(&file.path, file.content())
        .await
        .status()
        .is_success());
    let sha1 = sha1_hex(&file.content());

    // copyto within the remote is a COPY on the server: no byte goes through rclone.
    let copy = rclone
        .ok(&[
            "copyto",
            "nc:Quelle ä.bin",
            "nc:Kopie ü.bin",
            "-vv",
            "--dump",
            "headers",
        ])
        .await;
    assert!(
        copy.stderr.contains("COPY /remote.php/dav/files/admin/"),
        "rclone did not copy on the server:\n{}",
        integration_tests::clients::log_excerpt(&copy.stderr, 30)
    );
    assert!(!copy.stderr.contains("PUT /remote.php"), "{}", copy.stderr);
    assert_eq!(dav.sha1("Kopie ü.bin").await, sha1);
    assert_eq!(dav.sha1("Quelle ä.bin").await, sha1);

    let moved = rclone
        .ok(&[
            "moveto",
            "nc:Kopie ü.bin",
            "nc:Ordner/verschoben ö.bin",
            "-vv",
            "--dump",
            "headers",
        ])
        .await;
    assert!(
        moved.stderr.contains("MOVE /remote.php/dav/files/admin/"),
        "{}",
        moved.stderr
    );
    assert_eq!(dav.sha1("Ordner/verschoben ö.bin").await, sha1);
    assert_eq!(
        dav.get("Kopie ü.bin").await.0,
        reqwest::StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn ranged_reads_return_exactly_the_bytes_asked_for() {
    let Some((rclone, server)) = rclone_and_server().await else {
        return;
    };
    let dav = server.admin();
    let file = TestFile::new("Bereich.bin", 3 * MIB, 51);
    let content = file.content();
    assert!(dav
        .put(&file.path, content.clone())
        .await
        .status()
        .is_success());
    let len = content.len() as i64;
    // (offset, count): rclone sends `Range: bytes=<offset>-<offset+count-1>`, `bytes=<offset>-`
    // without a count, and `bytes=-<n>` for a negative offset.
    for (offset, count) in [
        (0i64, 100i64),
        (1000, 5000),
        (2_000_000, 1_000_000),
        (len - 10, -1),
        (-100, -1),
    ] {
        let run = rclone
            .ok(&[
                "cat",
                "nc:Bereich.bin",
                "--offset",
                &offset.to_string(),
                "--count",
                &count.to_string(),
            ])
            .await;
        let start = if offset < 0 { len + offset } else { offset } as usize;
        let end = if count < 0 {
            content.len()
        } else {
            start + count as usize
        };
        assert!(
            run.stdout == content[start..end],
            "rclone cat --offset {offset} --count {count}: {} bytes, expected bytes {start}..{end} \
             ({} bytes); the first bytes are those of offset {:?}",
            run.stdout.len(),
            end - start,
            run.stdout
                .get(..16)
                .and_then(|head| content.windows(16).position(|w| w == head))
        );
    }
}

#[tokio::test]
async fn a_multi_threaded_download_is_byte_identical() {
    let Some((rclone, server)) = rclone_and_server().await else {
        return;
    };
    let dav = server.admin();
    let file = TestFile::new("Groß parallel.bin", 24 * MIB, 61);
    assert!(dav
        .put(&file.path, file.content())
        .await
        .status()
        .is_success());
    let local = TempDir::new("rclone-multi");
    let target = local.path().to_string_lossy().into_owned();
    let run = rclone
        .ok(&[
            "copy",
            "nc:Groß parallel.bin",
            &target,
            "--multi-thread-streams",
            "4",
            "--multi-thread-cutoff",
            "1M",
            "-vv",
        ])
        .await;
    assert!(
        run.stderr.contains("multi-thread copy"),
        "rclone did not download in parallel:\n{}",
        run.stderr
    );
    let downloaded = local_tree(local.path(), |_| false);
    assert_eq!(
        downloaded.get("Groß parallel.bin"),
        Some(&sha1_hex(&file.content())),
        "{}",
        integration_tests::clients::log_excerpt(&run.stderr, 30)
    );
}

#[tokio::test]
async fn about_reports_the_space_used_and_left() {
    let Some((rclone, server)) = rclone_and_server().await else {
        return;
    };
    let dav = server.admin();
    let sizes = [MIB, 3 * MIB + 17];
    for (i, size) in sizes.iter().enumerate() {
        let file = TestFile::new(&format!("Datei {i}.bin"), *size, 70 + i as u64);
        assert!(dav
            .put(&file.path, file.content())
            .await
            .status()
            .is_success());
    }
    let run = rclone.ok(&["about", "nc:", "--json"]).await;
    let about: serde_json::Value =
        serde_json::from_slice(&run.stdout).expect("rclone about --json");
    assert_eq!(
        about["used"],
        sizes.iter().sum::<usize>(),
        "rclone about: {about} (from quota-used-bytes: {})",
        dav.root_properties(&["d:quota-used-bytes", "d:quota-available-bytes"])
            .await
    );

    // A user with a quota (set as Nextcloud's provisioning API sets it) sees what is left.
    let quota = 10 * MIB;
    let bob = server.create_user("bob", "bob-password-1234").await;
    crate::real_clients::chunking::set_quota(&server, "bob", &quota.to_string()).await;
    assert!(bob
        .put("eins.bin", vec![7u8; MIB])
        .await
        .status()
        .is_success());
    let rclone_bob = Rclone::new(server.url(), "bob", "bob-password-1234").await;
    let run = rclone_bob.ok(&["about", "nc:", "--json"]).await;
    let about: serde_json::Value =
        serde_json::from_slice(&run.stdout).expect("rclone about --json");
    assert_eq!(about["used"], MIB, "{about}");
    assert_eq!(about["free"], quota - MIB, "{about}");
    assert_eq!(about["total"], quota, "{about}");
}
