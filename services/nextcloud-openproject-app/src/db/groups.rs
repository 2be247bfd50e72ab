//! `groups` and `group_members` (with the sub-admin flag).

use diesel::prelude::*;
use service_kit::db::{AnyConnection, QueryOnBackend};

use super::schema::{group_members, groups};

/// The group admins belong to; seeded by the first migration.
pub const ADMIN_GROUP: &str = "admin";

pub fn exists(conn: &mut AnyConnection, gid: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        groups::table.filter(groups::gid.eq(gid)),
    ))
    .get_result_on(conn)
}

/// The groups of `uid`, sorted by name.
pub fn of_user(conn: &mut AnyConnection, uid: &str) -> QueryResult<Vec<String>> {
    group_members::table
        .filter(group_members::uid.eq(uid))
        .select(group_members::gid)
        .order(group_members::gid.asc())
        .load_on(conn)
}

pub fn is_member(conn: &mut AnyConnection, gid: &str, uid: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        group_members::table
            .filter(group_members::gid.eq(gid))
            .filter(group_members::uid.eq(uid)),
    ))
    .get_result_on(conn)
}

pub fn add_member(
    conn: &mut AnyConnection,
    gid: &str,
    uid: &str,
    is_subadmin: bool,
) -> QueryResult<()> {
    diesel::insert_into(group_members::table)
        .values((
            group_members::gid.eq(gid),
            group_members::uid.eq(uid),
            group_members::is_subadmin.eq(is_subadmin),
        ))
        .execute_on(conn)?;
    Ok(())
}

pub fn insert(conn: &mut AnyConnection, gid: &str) -> QueryResult<()> {
    diesel::insert_into(groups::table)
        .values(groups::gid.eq(gid))
        .execute_on(conn)?;
    Ok(())
}

/// `Some(is_subadmin)` when `uid` is a member of `gid`.
pub fn membership(conn: &mut AnyConnection, gid: &str, uid: &str) -> QueryResult<Option<bool>> {
    group_members::table
        .filter(group_members::gid.eq(gid))
        .filter(group_members::uid.eq(uid))
        .select(group_members::is_subadmin)
        .first_on(conn)
        .optional()
}
