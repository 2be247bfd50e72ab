//! Work packages, their seeded statuses, types and priorities, and notifications
//! (openproject-storages.md §5).

use diesel::prelude::*;
use service_kit::db::{QueryOnBackend, SelectColumns};

use super::{
    id_in,
    schema::{notifications, priorities, statuses, types, work_packages},
    Conn,
};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = work_packages)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct WorkPackage {
    pub id: i64,
    pub project_id: i64,
    pub subject: String,
    pub description: String,
    pub start_date: Option<String>,
    pub due_date: Option<String>,
    pub type_id: i64,
    pub status_id: i64,
    pub priority_id: i64,
    pub author_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub lock_version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Every writable column, written as a whole.
#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = work_packages, treat_none_as_null = true)]
pub struct WorkPackageRecord {
    pub project_id: i64,
    pub subject: String,
    pub description: String,
    pub start_date: Option<String>,
    pub due_date: Option<String>,
    pub type_id: i64,
    pub status_id: i64,
    pub priority_id: i64,
    pub author_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub lock_version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = statuses)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Status {
    pub id: i64,
    pub name: String,
    pub is_closed: bool,
    pub is_default: bool,
    pub color: String,
    pub position: i64,
    pub is_readonly: bool,
    pub default_done_ratio: Option<i64>,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = types)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Type {
    pub id: i64,
    pub name: String,
    pub color: String,
    pub position: i64,
    pub is_default: bool,
    pub is_milestone: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = priorities)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Priority {
    pub id: i64,
    pub name: String,
    pub position: i64,
    pub is_default: bool,
    pub is_active: bool,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = notifications)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Notification {
    pub id: i64,
    pub recipient_id: i64,
    pub actor_id: Option<i64>,
    pub project_id: i64,
    pub resource_id: i64,
    pub reason: String,
    pub read_ian: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = notifications)]
pub struct NewNotification<'a> {
    pub recipient_id: i64,
    pub actor_id: Option<i64>,
    pub project_id: i64,
    pub resource_id: i64,
    pub reason: &'a str,
    pub read_ian: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The seeded enumerations, loaded together.
#[derive(Debug, Clone)]
pub struct Enumerations {
    pub statuses: Vec<Status>,
    pub types: Vec<Type>,
    pub priorities: Vec<Priority>,
}

impl Enumerations {
    pub fn load(conn: &mut Conn) -> QueryResult<Self> {
        Ok(Self {
            statuses: statuses::table
                .order(statuses::position.asc())
                .select(Status::columns())
                .load_on::<Status>(conn)?,
            types: types::table
                .order(types::position.asc())
                .select(Type::columns())
                .load_on::<Type>(conn)?,
            priorities: priorities::table
                .order(priorities::position.asc())
                .select(Priority::columns())
                .load_on::<Priority>(conn)?,
        })
    }

    pub fn status(&self, id: i64) -> Option<&Status> {
        self.statuses.iter().find(|s| s.id == id)
    }
    pub fn type_(&self, id: i64) -> Option<&Type> {
        self.types.iter().find(|s| s.id == id)
    }
    pub fn priority(&self, id: i64) -> Option<&Priority> {
        self.priorities.iter().find(|s| s.id == id)
    }
}

/// Database methods
impl WorkPackage {
    pub fn find(conn: &mut Conn, id: i64) -> QueryResult<Option<WorkPackage>> {
        work_packages::table
            .find(id)
            .select(WorkPackage::columns())
            .first_on::<WorkPackage>(conn)
            .optional()
    }

    pub fn in_projects(conn: &mut Conn, project_ids: &[i64]) -> QueryResult<Vec<WorkPackage>> {
        work_packages::table
            .filter(id_in(work_packages::project_id, project_ids))
            .order(work_packages::id.asc())
            .select(WorkPackage::columns())
            .load_on::<WorkPackage>(conn)
    }

    pub fn find_many(conn: &mut Conn, ids: &[i64]) -> QueryResult<Vec<WorkPackage>> {
        work_packages::table
            .filter(id_in(work_packages::id, ids))
            .select(WorkPackage::columns())
            .load_on::<WorkPackage>(conn)
    }

    pub fn insert(conn: &mut Conn, row: &WorkPackageRecord) -> QueryResult<WorkPackage> {
        diesel::insert_into(work_packages::table)
            .values(row)
            .returning(work_packages::all_columns)
            .get_result_on(conn)
    }

    /// Writes `row` only if the stored lock version is still `expected` (optimistic locking).
    pub fn update_locked(
        conn: &mut Conn,
        id: i64,
        expected: i64,
        row: &WorkPackageRecord,
    ) -> QueryResult<Option<WorkPackage>> {
        diesel::update(
            work_packages::table
                .filter(work_packages::id.eq(id))
                .filter(work_packages::lock_version.eq(expected)),
        )
        .set(row)
        .returning(work_packages::all_columns)
        .get_result_on(conn)
        .optional()
    }
}

/// Database methods
impl Notification {
    pub fn insert(conn: &mut Conn, row: &NewNotification<'_>) -> QueryResult<Notification> {
        diesel::insert_into(notifications::table)
            .values(row)
            .returning(notifications::all_columns)
            .get_result_on(conn)
    }

    /// The recipient's notifications, newest first.
    pub fn of_recipient(conn: &mut Conn, recipient_id: i64) -> QueryResult<Vec<Notification>> {
        notifications::table
            .filter(notifications::recipient_id.eq(recipient_id))
            .order(notifications::id.desc())
            .select(Notification::columns())
            .load_on::<Notification>(conn)
    }

    pub fn set_read(conn: &mut Conn, ids: &[i64], read: bool, now: i64) -> QueryResult<usize> {
        diesel::update(notifications::table.filter(id_in(notifications::id, ids)))
            .set((
                notifications::read_ian.eq(read),
                notifications::updated_at.eq(now),
            ))
            .execute_on(conn)
    }
}
