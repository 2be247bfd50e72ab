use diesel::prelude::*;
use service_kit::db::{QueryOnBackend, SelectColumns};
use storage_protocol::openproject::UserStatus;

use super::{id_in, schema::users, Conn};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
/// Field order is the table's column order: inserts read back `users::all_columns`.
#[diesel(table_name = users)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct User {
    pub id: i64,
    pub login: String,
    pub login_lower: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub email_lower: String,
    pub admin: bool,
    pub status: String,
    pub password_hash: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUserRow<'a> {
    pub login: &'a str,
    pub login_lower: String,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub email: &'a str,
    pub email_lower: String,
    pub admin: bool,
    pub status: &'a str,
    pub password_hash: &'a str,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Changes to a user; `None` leaves a column alone.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct UserChanges {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub email_lower: Option<String>,
    pub admin: Option<bool>,
    pub status: Option<String>,
    pub password_hash: Option<String>,
    pub updated_at: Option<i64>,
}

/// Local methods
impl User {
    pub fn name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }

    pub fn status(&self) -> UserStatus {
        UserStatus::parse(&self.status).unwrap_or(UserStatus::Locked)
    }

    pub fn is_active(&self) -> bool {
        self.status() == UserStatus::Active
    }

    pub fn is_active_admin(&self) -> bool {
        self.admin && self.is_active()
    }
}

/// Database methods
impl User {
    pub fn find(conn: &mut Conn, id: i64) -> QueryResult<Option<User>> {
        users::table
            .find(id)
            .select(User::columns())
            .first_on::<User>(conn)
            .optional()
    }

    pub fn find_many(conn: &mut Conn, ids: &[i64]) -> QueryResult<Vec<User>> {
        users::table
            .filter(id_in(users::id, ids))
            .select(User::columns())
            .load_on::<User>(conn)
    }

    /// Ids of the admins whose account is active.
    pub fn active_admin_ids(conn: &mut Conn) -> QueryResult<Vec<i64>> {
        users::table
            .filter(users::admin.eq(true))
            .filter(users::status.eq(UserStatus::Active.as_str()))
            .select(users::id)
            .load_on::<i64>(conn)
    }

    /// Logins are unique regardless of case.
    pub fn find_by_login(conn: &mut Conn, login: &str) -> QueryResult<Option<User>> {
        users::table
            .filter(users::login_lower.eq(login.to_lowercase()))
            .select(User::columns())
            .first_on::<User>(conn)
            .optional()
    }

    pub fn login_taken(conn: &mut Conn, login: &str) -> QueryResult<bool> {
        Ok(Self::find_by_login(conn, login)?.is_some())
    }

    /// True when another user than `except` has this e-mail address (case-insensitive).
    pub fn email_taken(conn: &mut Conn, email: &str, except: Option<i64>) -> QueryResult<bool> {
        // No row has id 0: `except: None` excludes nothing.
        let found = users::table
            .filter(users::email_lower.eq(email.to_lowercase()))
            .filter(users::id.ne(except.unwrap_or(0)))
            .select(users::id)
            .first_on::<i64>(conn)
            .optional()?;
        Ok(found.is_some())
    }

    pub fn insert(conn: &mut Conn, row: &NewUserRow<'_>) -> QueryResult<User> {
        diesel::insert_into(users::table)
            .values(row)
            .returning(users::all_columns)
            .get_result_on(conn)
    }

    pub fn update(conn: &mut Conn, id: i64, changes: &UserChanges) -> QueryResult<User> {
        diesel::update(users::table.find(id))
            .set(changes)
            .returning(users::all_columns)
            .get_result_on(conn)
    }

    /// One page, ordered by id; `page` starts at 1.
    pub fn page(conn: &mut Conn, page: i64, page_size: i64) -> QueryResult<(Vec<User>, i64)> {
        let total = users::table.count().get_result_on(conn)?;
        let rows = users::table
            .order(users::id.asc())
            .limit(page_size)
            .offset((page - 1).saturating_mul(page_size))
            .select(User::columns())
            .load_on::<User>(conn)?;
        Ok((rows, total))
    }
}
