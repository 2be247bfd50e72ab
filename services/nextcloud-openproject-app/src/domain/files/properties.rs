//! Dead properties (RFC 4918 §4, §9.2): clients set and remove them with PROPPATCH, each user
//! their own on a node (as Nextcloud's `oc_properties`), all of a request or none of it.
//! PROPFIND shows them, MOVE keeps them (the node keeps its id), COPY takes the copier's along,
//! DELETE drops them with the node.
//!
//! Live properties (the ones the server computes, and those Sabre protects) cannot be set or
//! removed.

use std::collections::{HashMap, HashSet};

use service_kit::db::AnyConnection;
use storage_protocol::proppatch::{PropertyName, PropertyUpdate};

use super::{resolve, FileError, Located, Viewer};
use crate::db::dead_properties::{self, DeadPropertyRow};

pub use storage_protocol::dav::{DAV, NC, OC};

/// The longest property name, `{namespace}name`, in bytes (the width of Nextcloud's
/// `oc_properties.propertyname`).
pub const MAX_NAME_BYTES: usize = 255;
/// The largest value, as stored XML, in bytes.
pub const MAX_VALUE_BYTES: usize = 64 * 1024;
/// The most dead properties a user keeps on one node.
pub const MAX_PER_NODE: usize = 100;

/// Properties no client sets: what PROPFIND computes, and what Sabre's server protects
/// (`Sabre\DAV\Server::$protectedProperties`).
const PROTECTED: [(&str, &str); 26] = [
    (DAV, "getcontentlength"),
    (DAV, "getcontenttype"),
    (DAV, "getetag"),
    (DAV, "getlastmodified"),
    (DAV, "resourcetype"),
    (DAV, "lockdiscovery"),
    (DAV, "supportedlock"),
    (DAV, "quota-available-bytes"),
    (DAV, "quota-used-bytes"),
    (DAV, "supported-privilege-set"),
    (DAV, "current-user-privilege-set"),
    (DAV, "acl"),
    (DAV, "acl-restrictions"),
    (DAV, "inherited-acl-set"),
    (DAV, "principal-collection-set"),
    (DAV, "current-user-principal"),
    (DAV, "supported-method-set"),
    (DAV, "supported-report-set"),
    (DAV, "sync-token"),
    (OC, "fileid"),
    (OC, "id"),
    (OC, "size"),
    (OC, "permissions"),
    (OC, "owner-id"),
    (OC, "owner-display-name"),
    (OC, "checksums"),
];

/// True for a live property, which PROPPATCH cannot change.
pub fn is_protected(namespace: &str, name: &str) -> bool {
    PROTECTED.contains(&(namespace, name))
}

/// What became of one property of a PROPPATCH.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropertyStatus {
    /// Set or removed.
    Applied,
    /// A live property.
    Protected,
    /// The name is longer than [`MAX_NAME_BYTES`].
    NameTooLong,
    /// The value is larger than [`MAX_VALUE_BYTES`].
    ValueTooLarge,
    /// Setting it would leave more than [`MAX_PER_NODE`] properties on the node.
    TooMany,
    /// Another property of the request was refused, so this one was not applied either.
    FailedDependency,
}

/// The verdict on a PROPPATCH: each property's status, and the changes to make, which are
/// none when any property is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub results: Vec<(PropertyName, PropertyStatus)>,
    pub changes: Vec<PropertyUpdate>,
}

/// Decides a PROPPATCH on a node that has the dead properties `existing`. Instructions apply in
/// document order, so for a property named twice the last one counts (remove-then-set sets it);
/// each property gets one status, in order of first mention.
pub fn decide(updates: &[PropertyUpdate], existing: &HashSet<PropertyName>) -> Decision {
    let mut changes: Vec<PropertyUpdate> = Vec::new();
    let mut index: HashMap<PropertyName, usize> = HashMap::new();
    for update in updates {
        match index.get(update.name()) {
            Some(&at) => changes[at] = update.clone(),
            None => {
                index.insert(update.name().clone(), changes.len());
                changes.push(update.clone());
            }
        }
    }
    let mut statuses: Vec<PropertyStatus> = changes.iter().map(refusal).collect();
    let mut count = existing.len();
    for change in &changes {
        match change {
            PropertyUpdate::Set { name, .. } if !existing.contains(name) => count += 1,
            PropertyUpdate::Remove(name) if existing.contains(name) => count -= 1,
            _ => {}
        }
    }
    if count > MAX_PER_NODE {
        for (change, status) in changes.iter().zip(statuses.iter_mut()) {
            let adds =
                matches!(change, PropertyUpdate::Set { name, .. } if !existing.contains(name));
            if adds && *status == PropertyStatus::Applied {
                *status = PropertyStatus::TooMany;
            }
        }
    }
    let refused = statuses.iter().any(|s| *s != PropertyStatus::Applied);
    if refused {
        for status in &mut statuses {
            if *status == PropertyStatus::Applied {
                *status = PropertyStatus::FailedDependency;
            }
        }
    }
    Decision {
        results: changes
            .iter()
            .map(|c| c.name().clone())
            .zip(statuses)
            .collect(),
        changes: if refused { Vec::new() } else { changes },
    }
}

/// Why one change cannot be made on its own, or [`PropertyStatus::Applied`].
fn refusal(change: &PropertyUpdate) -> PropertyStatus {
    let name = change.name();
    if is_protected(&name.namespace, &name.name) {
        return PropertyStatus::Protected;
    }
    match change {
        PropertyUpdate::Set { name, .. } if name.clark().len() > MAX_NAME_BYTES => {
            PropertyStatus::NameTooLong
        }
        PropertyUpdate::Set { value, .. } if value.len() > MAX_VALUE_BYTES => {
            PropertyStatus::ValueTooLarge
        }
        _ => PropertyStatus::Applied,
    }
}

/// PROPPATCH: decides and, when nothing is refused, applies the updates to the viewer's
/// properties of the node at `segments`; returns the node and each property's status. Call it
/// inside the request's transaction.
pub fn patch(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    segments: &[String],
    updates: &[PropertyUpdate],
) -> Result<(Located, Vec<(PropertyName, PropertyStatus)>), FileError> {
    let node = resolve(conn, viewer, segments)?.ok_or(FileError::NotFound)?;
    let id = node.node.id;
    let existing: HashSet<PropertyName> = dead_properties::of_nodes(conn, &viewer.uid, &[id])?
        .into_iter()
        .map(|row| PropertyName {
            namespace: row.namespace,
            name: row.name,
        })
        .collect();
    let decision = decide(updates, &existing);
    for change in decision.changes {
        match change {
            PropertyUpdate::Set { name, value } => dead_properties::set(
                conn,
                &viewer.uid,
                &DeadPropertyRow {
                    node_id: id,
                    namespace: name.namespace,
                    name: name.name,
                    value,
                },
            )?,
            PropertyUpdate::Remove(name) => {
                dead_properties::remove(conn, id, &viewer.uid, &name.namespace, &name.name)?;
            }
        }
    }
    Ok((node, decision.results))
}

/// A dead property as PROPFIND shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadProperty {
    pub name: PropertyName,
    /// XML content.
    pub value: String,
}

/// The viewer's dead properties of the nodes `ids`, by node id.
pub fn of_nodes(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    ids: &[i64],
) -> Result<HashMap<i64, Vec<DeadProperty>>, FileError> {
    let mut found: HashMap<i64, Vec<DeadProperty>> = HashMap::new();
    for row in dead_properties::of_nodes(conn, &viewer.uid, ids)? {
        found.entry(row.node_id).or_default().push(DeadProperty {
            name: PropertyName {
                namespace: row.namespace,
                name: row.name,
            },
            value: row.value,
        });
    }
    Ok(found)
}

/// Gives each copy (source id, copy id) the copier's properties of its source.
pub fn copy(conn: &mut AnyConnection, uid: &str, copies: &[(i64, i64)]) -> Result<(), FileError> {
    let sources: Vec<i64> = copies.iter().map(|(from, _)| *from).collect();
    let targets: HashMap<i64, i64> = copies.iter().copied().collect();
    for row in dead_properties::of_nodes(conn, uid, &sources)? {
        let Some(&node_id) = targets.get(&row.node_id) else {
            continue;
        };
        dead_properties::set(conn, uid, &DeadPropertyRow { node_id, ..row })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        db::{test_db, users},
        domain::files::{ops, store::ContentStore},
    };

    fn name(n: &str) -> PropertyName {
        PropertyName::new("http://example.com/neon/litmus/", n)
    }

    fn set(n: &str, value: &str) -> PropertyUpdate {
        PropertyUpdate::Set {
            name: name(n),
            value: value.into(),
        }
    }

    fn remove(n: &str) -> PropertyUpdate {
        PropertyUpdate::Remove(name(n))
    }

    fn statuses(decision: &Decision) -> Vec<(&str, PropertyStatus)> {
        decision
            .results
            .iter()
            .map(|(n, s)| (n.name.as_str(), *s))
            .collect()
    }

    #[test]
    fn the_last_instruction_for_a_property_counts() {
        let existing = HashSet::from([name("b")]);
        let decision = decide(
            &[
                set("a", "1"),
                remove("a"),
                remove("b"),
                set("b", "2"),
                remove("c"),
            ],
            &existing,
        );
        assert_eq!(
            statuses(&decision),
            [
                ("a", PropertyStatus::Applied),
                ("b", PropertyStatus::Applied),
                ("c", PropertyStatus::Applied),
            ]
        );
        assert_eq!(decision.changes, [remove("a"), set("b", "2"), remove("c")]);
    }

    #[test]
    fn one_refused_property_fails_the_others_and_changes_nothing() {
        let etag = PropertyUpdate::Set {
            name: PropertyName::new(DAV, "getetag"),
            value: "\"x\"".into(),
        };
        let decision = decide(&[set("a", "1"), etag, remove("b")], &HashSet::new());
        assert_eq!(
            statuses(&decision),
            [
                ("a", PropertyStatus::FailedDependency),
                ("getetag", PropertyStatus::Protected),
                ("b", PropertyStatus::FailedDependency),
            ]
        );
        assert!(decision.changes.is_empty());
        // Removing a live property is refused as well.
        let decision = decide(
            &[PropertyUpdate::Remove(PropertyName::new(
                DAV,
                "resourcetype",
            ))],
            &HashSet::new(),
        );
        assert_eq!(
            statuses(&decision),
            [("resourcetype", PropertyStatus::Protected)]
        );
    }

    #[test]
    fn protected_names_are_exact() {
        assert!(is_protected(DAV, "getcontentlength"));
        assert!(is_protected(OC, "fileid"));
        assert!(!is_protected("", "getetag"));
        assert!(!is_protected("DAV:x", "getetag"));
        assert!(!is_protected(DAV, "displayname"));
    }

    #[test]
    fn names_and_values_have_limits() {
        let long = "n".repeat(MAX_NAME_BYTES);
        let decision = decide(
            &[
                set(&long, "1"),
                set("big", &"v".repeat(MAX_VALUE_BYTES + 1)),
                set("fits", &"v".repeat(MAX_VALUE_BYTES)),
            ],
            &HashSet::new(),
        );
        assert_eq!(
            decision.results.iter().map(|(_, s)| *s).collect::<Vec<_>>(),
            [
                PropertyStatus::NameTooLong,
                PropertyStatus::ValueTooLarge,
                PropertyStatus::FailedDependency,
            ]
        );
        // A name too long to have been stored can still be removed.
        let removal = decide(&[remove(&long)], &HashSet::new());
        assert_eq!(removal.results[0].1, PropertyStatus::Applied);
        let exact = "n".repeat(MAX_NAME_BYTES - name("").clark().len());
        assert_eq!(
            decide(&[set(&exact, "1")], &HashSet::new()).results[0].1,
            PropertyStatus::Applied
        );
    }

    #[test]
    fn a_node_keeps_at_most_its_limit_of_properties() {
        let existing: HashSet<PropertyName> = (0..MAX_PER_NODE - 1)
            .map(|i| name(&format!("p{i}")))
            .collect();
        let fits = decide(&[set("new", "1"), set("p0", "2")], &existing);
        assert!(fits
            .results
            .iter()
            .all(|(_, s)| *s == PropertyStatus::Applied));
        let over = decide(
            &[set("new", "1"), set("new2", "1"), set("p0", "2")],
            &existing,
        );
        assert_eq!(
            statuses(&over),
            [
                ("new", PropertyStatus::TooMany),
                ("new2", PropertyStatus::TooMany),
                ("p0", PropertyStatus::FailedDependency),
            ]
        );
        // Removing one makes room for another.
        let swap = decide(
            &[remove("p1"), set("new", "1"), set("new2", "1")],
            &existing,
        );
        assert!(swap
            .results
            .iter()
            .all(|(_, s)| *s == PropertyStatus::Applied));
    }

    fn path(p: &str) -> Vec<String> {
        p.split('/').map(str::to_string).collect()
    }

    fn names_on(conn: &mut AnyConnection, viewer: &Viewer, at: &str) -> Vec<String> {
        let node = resolve(conn, viewer, &path(at)).unwrap().unwrap();
        of_nodes(conn, viewer, &[node.node.id])
            .unwrap()
            .remove(&node.node.id)
            .unwrap_or_default()
            .into_iter()
            .map(|p| format!("{}={}", p.name.name, p.value))
            .collect()
    }

    #[test]
    fn properties_are_each_users_and_follow_copies_moves_and_deletes() {
        let (_database, db) = test_db();
        let conn = &mut db.get().unwrap();
        let dir = std::env::temp_dir().join(format!("ncoa-props-{}", uuid::Uuid::new_v4()));
        let store = ContentStore::open(&dir).unwrap();
        users::insert_for_tests(conn, "alice");
        users::insert_for_tests(conn, "bob");
        let alice = Viewer::load(conn, "alice").unwrap();
        let bob = Viewer::load(conn, "bob").unwrap();
        ops::mkcol(conn, &alice, &path("a")).unwrap();
        ops::mkcol(conn, &alice, &path("a/s")).unwrap();
        let (_, results) = patch(conn, &alice, &path("a/s"), &[set("p", "1")]).unwrap();
        assert_eq!(results, [(name("p"), PropertyStatus::Applied)]);
        patch(conn, &alice, &path("a"), &[set("q", "2")]).unwrap();
        // A refused request writes nothing.
        let etag = PropertyUpdate::Remove(PropertyName::new(DAV, "getetag"));
        patch(conn, &alice, &path("a"), &[set("r", "3"), etag]).unwrap();
        assert_eq!(names_on(conn, &alice, "a"), ["q=2"]);
        // Another user sees none of alice's properties on the same node.
        let a = resolve(conn, &alice, &path("a")).unwrap().unwrap().node.id;
        assert!(of_nodes(conn, &bob, &[a]).unwrap().is_empty());

        let mut keys = Vec::new();
        ops::copy_node(
            conn,
            &store,
            &alice,
            &path("a"),
            &path("b"),
            false,
            true,
            &mut keys,
        )
        .unwrap();
        assert_eq!(names_on(conn, &alice, "b"), ["q=2"]);
        assert_eq!(names_on(conn, &alice, "b/s"), ["p=1"]);
        patch(conn, &alice, &path("b/s"), &[set("p", "changed")]).unwrap();
        assert_eq!(names_on(conn, &alice, "a/s"), ["p=1"]);

        ops::move_node(conn, &alice, &path("b"), &path("c"), false).unwrap();
        assert_eq!(names_on(conn, &alice, "c/s"), ["p=changed"]);
        let ids: Vec<i64> = ["c", "c/s"]
            .iter()
            .map(|at| resolve(conn, &alice, &path(at)).unwrap().unwrap().node.id)
            .collect();
        ops::delete(conn, &alice, &path("c")).unwrap();
        assert!(of_nodes(conn, &alice, &ids).unwrap().is_empty());
        assert!(matches!(
            patch(conn, &alice, &path("c"), &[set("p", "1")]),
            Err(FileError::NotFound)
        ));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
