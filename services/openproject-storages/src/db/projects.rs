//! Projects, their enabled modules, the seeded roles and memberships (openproject-storages.md §4).

use diesel::prelude::*;
use service_kit::db::{QueryOnBackend, SelectColumns};

use super::{
    id_in,
    schema::{membership_roles, memberships, project_modules, projects, roles},
    Conn,
};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = projects)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Project {
    pub id: i64,
    pub identifier: String,
    pub name: String,
    pub description: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = projects)]
pub struct NewProject<'a> {
    pub identifier: &'a str,
    pub name: &'a str,
    pub description: &'a str,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = roles)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Role {
    pub id: i64,
    pub role_key: String,
    pub name: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = memberships)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Membership {
    pub id: i64,
    pub project_id: i64,
    pub user_id: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = memberships)]
pub struct NewMembership {
    pub project_id: i64,
    pub user_id: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Database methods
impl Project {
    pub fn find(conn: &mut Conn, id: i64) -> QueryResult<Option<Project>> {
        projects::table
            .find(id)
            .select(Project::columns())
            .first_on::<Project>(conn)
            .optional()
    }

    pub fn find_by_identifier(conn: &mut Conn, identifier: &str) -> QueryResult<Option<Project>> {
        projects::table
            .filter(projects::identifier.eq(identifier))
            .select(Project::columns())
            .first_on::<Project>(conn)
            .optional()
    }

    pub fn find_many(conn: &mut Conn, ids: &[i64]) -> QueryResult<Vec<Project>> {
        projects::table
            .filter(id_in(projects::id, ids))
            .order(projects::id.asc())
            .select(Project::columns())
            .load_on::<Project>(conn)
    }

    pub fn all(conn: &mut Conn) -> QueryResult<Vec<Project>> {
        projects::table
            .order(projects::id.asc())
            .select(Project::columns())
            .load_on::<Project>(conn)
    }

    pub fn insert(conn: &mut Conn, row: &NewProject<'_>) -> QueryResult<Project> {
        diesel::insert_into(projects::table)
            .values(row)
            .returning(projects::all_columns)
            .get_result_on(conn)
    }

    /// `(project id, module name)` of every enabled module.
    pub fn all_modules(conn: &mut Conn) -> QueryResult<Vec<(i64, String)>> {
        project_modules::table
            .select((project_modules::project_id, project_modules::name))
            .load_on(conn)
    }

    pub fn modules(conn: &mut Conn, project_id: i64) -> QueryResult<Vec<String>> {
        project_modules::table
            .filter(project_modules::project_id.eq(project_id))
            .order(project_modules::name.asc())
            .select(project_modules::name)
            .load_on(conn)
    }

    /// Idempotent.
    pub fn enable_module(conn: &mut Conn, project_id: i64, name: &str) -> QueryResult<()> {
        let present = project_modules::table
            .filter(project_modules::project_id.eq(project_id))
            .filter(project_modules::name.eq(name))
            .count()
            .get_result_on::<i64>(conn)?;
        if present == 0 {
            diesel::insert_into(project_modules::table)
                .values((
                    project_modules::project_id.eq(project_id),
                    project_modules::name.eq(name),
                ))
                .execute_on(conn)?;
        }
        Ok(())
    }

    pub fn disable_module(conn: &mut Conn, project_id: i64, name: &str) -> QueryResult<()> {
        diesel::delete(
            project_modules::table
                .filter(project_modules::project_id.eq(project_id))
                .filter(project_modules::name.eq(name)),
        )
        .execute_on(conn)?;
        Ok(())
    }
}

/// Database methods
impl Role {
    pub fn all(conn: &mut Conn) -> QueryResult<Vec<Role>> {
        roles::table
            .order(roles::id.asc())
            .select(Role::columns())
            .load_on::<Role>(conn)
    }

    pub fn find(conn: &mut Conn, id: i64) -> QueryResult<Option<Role>> {
        roles::table
            .find(id)
            .select(Role::columns())
            .first_on::<Role>(conn)
            .optional()
    }
}

/// Database methods
impl Membership {
    pub fn all(conn: &mut Conn) -> QueryResult<Vec<Membership>> {
        memberships::table
            .order(memberships::id.asc())
            .select(Membership::columns())
            .load_on::<Membership>(conn)
    }

    pub fn of_user(conn: &mut Conn, user_id: i64) -> QueryResult<Vec<Membership>> {
        memberships::table
            .filter(memberships::user_id.eq(user_id))
            .order(memberships::id.asc())
            .select(Membership::columns())
            .load_on::<Membership>(conn)
    }

    pub fn of_projects(conn: &mut Conn, project_ids: &[i64]) -> QueryResult<Vec<Membership>> {
        memberships::table
            .filter(id_in(memberships::project_id, project_ids))
            .order(memberships::id.asc())
            .select(Membership::columns())
            .load_on::<Membership>(conn)
    }

    pub fn find(conn: &mut Conn, id: i64) -> QueryResult<Option<Membership>> {
        memberships::table
            .find(id)
            .select(Membership::columns())
            .first_on::<Membership>(conn)
            .optional()
    }

    pub fn exists(conn: &mut Conn, project_id: i64, user_id: i64) -> QueryResult<bool> {
        Ok(memberships::table
            .filter(memberships::project_id.eq(project_id))
            .filter(memberships::user_id.eq(user_id))
            .count()
            .get_result_on::<i64>(conn)?
            > 0)
    }

    pub fn insert(
        conn: &mut Conn,
        row: &NewMembership,
        role_ids: &[i64],
    ) -> QueryResult<Membership> {
        let membership: Membership = diesel::insert_into(memberships::table)
            .values(row)
            .returning(memberships::all_columns)
            .get_result_on(conn)?;
        for role_id in role_ids {
            diesel::insert_into(membership_roles::table)
                .values((
                    membership_roles::membership_id.eq(membership.id),
                    membership_roles::role_id.eq(role_id),
                ))
                .execute_on(conn)?;
        }
        Ok(membership)
    }

    pub fn delete(conn: &mut Conn, id: i64) -> QueryResult<usize> {
        diesel::delete(memberships::table.find(id)).execute_on(conn)
    }

    /// `(membership id, role id)` pairs of all of a user's memberships, in one query that is
    /// prepared once (an `IN` list of membership ids would be prepared on every call).
    pub fn roles_of_user(conn: &mut Conn, user_id: i64) -> QueryResult<Vec<(i64, i64)>> {
        membership_roles::table
            .inner_join(memberships::table)
            .filter(memberships::user_id.eq(user_id))
            .order((
                membership_roles::membership_id.asc(),
                membership_roles::role_id.asc(),
            ))
            .select((membership_roles::membership_id, membership_roles::role_id))
            .load_on(conn)
    }

    /// `(membership id, role id)` pairs of these memberships.
    pub fn roles_of(conn: &mut Conn, membership_ids: &[i64]) -> QueryResult<Vec<(i64, i64)>> {
        membership_roles::table
            .filter(id_in(membership_roles::membership_id, membership_ids))
            .order((
                membership_roles::membership_id.asc(),
                membership_roles::role_id.asc(),
            ))
            .select((membership_roles::membership_id, membership_roles::role_id))
            .load_on(conn)
    }
}
