//! The desktop client's `nextcloudcmd`: a two-way sync of files from empty to 120 MB (the larger
//! ones go up in chunks), with umlauts and spaces in their names, ending identical by SHA-1.

use std::{collections::BTreeMap, path::Path, time::Duration};

use integration_tests::{
    clients::{
        client_installed, local_tree, log_excerpt, set_age, sha1_hex, Nextcloudcmd, TempDir,
        TestFile,
    },
    dav::{DavClient, DavServer},
    ADMIN, NCOA_ADMIN_PASSWORD,
};

const MIB: usize = 1024 * 1024;

/// The server's files with their SHA-1, read back by WebDAV GET.
async fn server_files(dav: &DavClient) -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    for path in dav.tree().await.into_keys() {
        let sha1 = dav.sha1(&path).await;
        files.insert(path, sha1);
    }
    files
}

async fn sync(client: &Nextcloudcmd, local: &Path, server: &DavServer, round: &str) -> String {
    let run = client
        .sync(local, server.url(), ADMIN, NCOA_ADMIN_PASSWORD)
        .await;
    let log = format!("{}{}", run.stdout_text(), run.stderr);
    assert!(
        run.status.success(),
        "{round}: nextcloudcmd exited with {}:\n{}",
        run.status,
        log_excerpt(&log, 40)
    );
    log
}

#[tokio::test]
async fn a_two_way_sync_ends_identical_on_both_sides() {
    if !client_installed(Nextcloudcmd::COMMAND) {
        return;
    }
    let server = DavServer::spawn(None);
    let dav = server.admin();
    let local = TempDir::new("nextcloudcmd-sync");
    let client = Nextcloudcmd::new();

    let files = [
        TestFile::new("Leere Datei.txt", 0, 1),
        TestFile::new("Größe 5 MB.dat", 5 * MIB, 2),
        TestFile::new("Übersicht März.bin", 12 * MIB, 3),
        TestFile::new("Ordner ä/Große Datei 120 MB.bin", 120 * MIB, 4),
    ];
    let mut expected = BTreeMap::new();
    for file in &files {
        expected.insert(file.path.clone(), file.write_below(local.path()));
        set_age(&local.join(&file.path), Duration::from_secs(3600));
    }

    // Up: every file arrives whole under its own name; no chunk is left under a name of its own.
    let log = sync(&client, local.path(), &server, "first sync").await;
    let on_server = server_files(&dav).await;
    assert_eq!(
        on_server,
        expected,
        "after the first sync the server's files differ from the local ones (by SHA-1); \
         the client's log:\n{}",
        log_excerpt(&log, 40)
    );
    assert!(
        on_server.keys().all(|name| !name.contains("-chunking-")),
        "{on_server:?}"
    );

    // Both sides change: the server gets a new version of one file and a new file, the local
    // folder a new version of another (another size and modification time).
    let replaced = TestFile::new("Größe 5 MB.dat", 5 * MIB + 1, 12);
    let added = TestFile::new("Neu vom Server ö.bin", 3 * MIB, 13);
    for file in [&replaced, &added] {
        let response = dav.put(&file.path, file.content()).await;
        assert!(response.status().is_success(), "{}", response.status());
        expected.insert(file.path.clone(), sha1_hex(&file.content()));
    }
    let changed = TestFile::new("Übersicht März.bin", 12 * MIB + 7, 14);
    expected.insert(changed.path.clone(), changed.write_below(local.path()));
    set_age(&local.join(&changed.path), Duration::from_secs(60));

    let log = sync(&client, local.path(), &server, "second sync").await;
    let on_disk = local_tree(local.path(), Nextcloudcmd::is_bookkeeping);
    assert_eq!(
        on_disk,
        expected,
        "after the second sync the local files differ (renamed, truncated, conflicting or \
         missing); the client's log:\n{}",
        log_excerpt(&log, 40)
    );
    let on_server = server_files(&dav).await;
    assert_eq!(
        on_server,
        expected,
        "after the second sync the server's files differ; the client's log:\n{}",
        log_excerpt(&log, 40)
    );
}
