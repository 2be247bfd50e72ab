//! Test servers and their databases. [`spawn`] starts a service in the test's process on a free
//! port from [`server_source`]'s settings.
//!
//! Test databases: every test gets its own, on the backend chosen by `TEST_DATABASE`
//! (`sqlite`, the default, or `postgres`). PostgreSQL is reached at `TEST_POSTGRES_URL`
//! (default `postgres://postgres@127.0.0.1:5432`); each test creates a uniquely named database
//! and drops it when the guard is dropped. When PostgreSQL is requested but unreachable the test
//! fails: a skipped backend must never look like a passing one.

use std::path::PathBuf;

use diesel::connection::SimpleConnection;

use crate::{
    application::{Application, Service},
    config::Source,
    db::{DatabaseUrl, Db},
};

/// The settings every test server starts from, under the service's variable `prefix`: a free
/// loopback port, `database`, a fresh secret key, the admin `admin` with `admin_password`, quiet
/// logs; then `variables` (keys as in the TOML file), which win.
pub fn server_source<'a>(
    prefix: &'static str,
    database: &TestDatabase,
    admin_password: &str,
    variables: impl IntoIterator<Item = (&'a str, String)>,
) -> Source {
    Source::from_pairs(
        prefix,
        [
            ("listen", "127.0.0.1:0".to_string()),
            ("database_url", database.url_string()),
            ("admin_username", "admin".to_string()),
            ("admin_password", admin_password.to_string()),
            (
                "secret_key",
                crate::crypto::SecretKey::generate().to_base64(),
            ),
            ("log", "warn".to_string()),
        ]
        .into_iter()
        .chain(variables),
    )
}

/// Builds the service and serves it in the background of the test's runtime: its public URL
/// (without trailing `/`) and its database.
pub async fn spawn<S: Service>(settings: S::Settings) -> (String, Db) {
    let app = Application::<S>::build(settings)
        .await
        .expect("the application builds");
    let (url, db) = (app.public_url().to_string(), app.db().clone());
    tokio::spawn(app.run_until_stopped());
    (url, db)
}

pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432";

/// Which backend the test run targets.
pub fn wants_postgres() -> bool {
    std::env::var("TEST_DATABASE").is_ok_and(|v| v.eq_ignore_ascii_case("postgres"))
}

/// A database that exists for the lifetime of the value.
pub struct TestDatabase {
    pub url: DatabaseUrl,
    cleanup: Cleanup,
}

enum Cleanup {
    SqliteDir(PathBuf),
    Postgres { server: String, name: String },
}

impl TestDatabase {
    /// A fresh, empty database on the backend of this test run.
    pub fn create(label: &str) -> Self {
        let id = uuid::Uuid::new_v4().simple().to_string();
        if wants_postgres() {
            let server =
                std::env::var("TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.into());
            let server = server.trim_end_matches('/').to_string();
            let name = format!("test_{label}_{id}").replace('-', "_");
            let mut admin = crate::db::establish_postgres(&format!("{server}/postgres"))
                .unwrap_or_else(|e| {
                    panic!("TEST_DATABASE=postgres but {server} is unreachable: {e}")
                });
            admin
                .batch_execute(&format!("CREATE DATABASE \"{name}\""))
                .expect("CREATE DATABASE");
            Self {
                url: DatabaseUrl::Postgres(format!("{server}/{name}")),
                cleanup: Cleanup::Postgres { server, name },
            }
        } else {
            let dir = std::env::temp_dir().join(format!("{label}-test-{id}"));
            std::fs::create_dir_all(&dir).expect("temp dir");
            Self {
                url: DatabaseUrl::Sqlite(dir.join(format!("{label}.db"))),
                cleanup: Cleanup::SqliteDir(dir),
            }
        }
    }

    /// Runs `sql` (one or more statements) on this database: how a test sets a scene that no
    /// request can, such as rows that expired last week.
    pub fn execute(&self, sql: &str) {
        let db = crate::db::Db::connect(&self.url).expect("the test database opens");
        let mut conn = db.get().expect("a connection");
        conn.batch_execute(sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// The number of rows of `table` that match `condition` (an SQL expression).
    pub fn count(&self, table: &str, condition: &str) -> i64 {
        use diesel::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let db = crate::db::Db::connect(&self.url).expect("the test database opens");
        let mut conn = db.get().expect("a connection");
        let sql = format!("SELECT COUNT(*) AS n FROM {table} WHERE {condition}");
        let row: Count = match &mut *conn {
            crate::db::AnyConnection::Sqlite(c) => diesel::sql_query(&sql).get_result(c),
            crate::db::AnyConnection::Postgresql(c) => diesel::sql_query(&sql).get_result(c),
        }
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
        row.n
    }

    /// The URL as an environment variable value (`sqlite://…` or `postgres://…`).
    pub fn url_string(&self) -> String {
        match &self.url {
            DatabaseUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
            DatabaseUrl::Postgres(url) => url.clone(),
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::SqliteDir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Postgres { server, name } => {
                if let Ok(mut admin) = crate::db::establish_postgres(&format!("{server}/postgres"))
                {
                    let _ = admin
                        .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
                }
            }
        }
    }
}

#[derive(diesel::QueryableByName)]
struct Bytes {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    bytes: i64,
}

/// The size of the database `conn` is connected to, in bytes (SQLite: its pages, the write-ahead
/// log included; PostgreSQL: `pg_database_size`).
pub fn database_bytes(conn: &mut crate::db::AnyConnection) -> i64 {
    use diesel::RunQueryDsl;
    let row: Bytes = match conn {
        crate::db::AnyConnection::Sqlite(c) => diesel::sql_query(
            "SELECT page_count * page_size AS bytes FROM pragma_page_count(), pragma_page_size()",
        )
        .get_result(c),
        crate::db::AnyConnection::Postgresql(c) => {
            diesel::sql_query("SELECT pg_database_size(current_database()) AS bytes").get_result(c)
        }
    }
    .expect("the database size is readable");
    row.bytes
}

/// The keys of the throttle's rows (`crate::throttle`).
pub fn throttle_keys(conn: &mut crate::db::AnyConnection) -> Vec<String> {
    use crate::db::QueryOnBackend;
    use diesel::QueryDsl;
    crate::throttle::throttle_failures::table
        .select(crate::throttle::throttle_failures::key_digest)
        .load_on(conn)
        .expect("the throttle table is readable")
}
