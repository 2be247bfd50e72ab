//! HAL building blocks and the OpenProject error body (contract README §3).

use serde::{Deserialize, Serialize};

pub const ERROR_URN_PREFIX: &str = "urn:openproject-org:api:v3:errors:";

/// `{"href": …, "title"?: …, "method"?: …, "templated"?: true}`; a link to nothing has a null href.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub href: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub templated: Option<bool>,
}

impl Link {
    pub fn to(href: impl Into<String>) -> Self {
        Self {
            href: Some(href.into()),
            title: None,
            method: None,
            templated: None,
        }
    }
    pub fn titled(href: impl Into<String>, title: impl Into<String>) -> Self {
        Self {
            title: Some(title.into()),
            ..Self::to(href)
        }
    }
    pub fn action(href: impl Into<String>, method: &str) -> Self {
        Self {
            method: Some(method.to_string()),
            ..Self::to(href)
        }
    }
    pub fn nothing() -> Self {
        Self {
            href: None,
            title: None,
            method: None,
            templated: None,
        }
    }
}

/// `_links` of a collection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelfLinks {
    #[serde(rename = "self")]
    pub self_: Link,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Elements<T> {
    pub elements: Vec<T>,
}

/// `{"_type": "Collection", "total", "count", "pageSize"?, "offset"?, "_embedded": {"elements"}, "_links"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Collection<T> {
    #[serde(rename = "_type")]
    pub type_: String,
    pub total: u64,
    pub count: u64,
    #[serde(rename = "pageSize", default, skip_serializing_if = "Option::is_none")]
    pub page_size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    #[serde(rename = "_embedded")]
    pub embedded: Elements<T>,
    #[serde(rename = "_links")]
    pub links: SelfLinks,
}

impl<T> Collection<T> {
    /// An unpaginated collection (`total` = `count`).
    pub fn unpaged(self_href: impl Into<String>, elements: Vec<T>) -> Self {
        let n = elements.len() as u64;
        Self {
            type_: "Collection".into(),
            total: n,
            count: n,
            page_size: None,
            offset: None,
            embedded: Elements { elements },
            links: SelfLinks {
                self_: Link::to(self_href),
            },
        }
    }
}

/// The error identifiers of the contract, each with its HTTP status and default message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorId {
    PropertyConstraintViolation,
    MultipleErrors,
    PropertyMissingError,
    PropertyFormatError,
    PropertyIsReadOnly,
    Unauthenticated,
    MissingPermission,
    NotFound,
    UpdateConflict,
    InvalidQuery,
    InvalidRequestBody,
    BadRequest,
    TypeNotSupported,
    OutboundRequestNotFound,
    OutboundRequestForbidden,
    InternalServerError,
    /// Extension: failed logins from one address are throttled (README §5.3).
    TooManyRequests,
}

impl ErrorId {
    const ALL: [ErrorId; 17] = [
        Self::PropertyConstraintViolation,
        Self::MultipleErrors,
        Self::PropertyMissingError,
        Self::PropertyFormatError,
        Self::PropertyIsReadOnly,
        Self::Unauthenticated,
        Self::MissingPermission,
        Self::NotFound,
        Self::UpdateConflict,
        Self::InvalidQuery,
        Self::InvalidRequestBody,
        Self::BadRequest,
        Self::TypeNotSupported,
        Self::OutboundRequestNotFound,
        Self::OutboundRequestForbidden,
        Self::InternalServerError,
        Self::TooManyRequests,
    ];

    /// The identifier of a full URN.
    pub fn from_urn(urn: &str) -> Option<Self> {
        let name = urn.strip_prefix(ERROR_URN_PREFIX)?;
        Self::ALL.into_iter().find(|id| id.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::PropertyConstraintViolation => "PropertyConstraintViolation",
            Self::MultipleErrors => "MultipleErrors",
            Self::PropertyMissingError => "PropertyMissingError",
            Self::PropertyFormatError => "PropertyFormatError",
            Self::PropertyIsReadOnly => "PropertyIsReadOnly",
            Self::Unauthenticated => "Unauthenticated",
            Self::MissingPermission => "MissingPermission",
            Self::NotFound => "NotFound",
            Self::UpdateConflict => "UpdateConflict",
            Self::InvalidQuery => "InvalidQuery",
            Self::InvalidRequestBody => "InvalidRequestBody",
            Self::BadRequest => "BadRequest",
            Self::TypeNotSupported => "TypeNotSupported",
            Self::OutboundRequestNotFound => "OutboundRequest:NotFound",
            Self::OutboundRequestForbidden => "OutboundRequest:Forbidden",
            Self::InternalServerError => "InternalServerError",
            Self::TooManyRequests => "TooManyRequests",
        }
    }

    pub fn urn(self) -> String {
        format!("{ERROR_URN_PREFIX}{}", self.name())
    }

    pub fn status(self) -> u16 {
        match self {
            Self::PropertyConstraintViolation
            | Self::MultipleErrors
            | Self::PropertyMissingError
            | Self::PropertyFormatError
            | Self::PropertyIsReadOnly => 422,
            Self::Unauthenticated => 401,
            Self::MissingPermission => 403,
            Self::NotFound => 404,
            Self::UpdateConflict => 409,
            Self::InvalidQuery | Self::InvalidRequestBody | Self::BadRequest => 400,
            Self::TypeNotSupported => 415,
            Self::OutboundRequestNotFound
            | Self::OutboundRequestForbidden
            | Self::InternalServerError => 500,
            Self::TooManyRequests => 429,
        }
    }

    /// The default message, where the contract fixes one.
    pub fn default_message(self) -> &'static str {
        match self {
            Self::MultipleErrors => messages::MULTIPLE_ERRORS,
            Self::PropertyIsReadOnly => "You must not write a read-only attribute.",
            Self::Unauthenticated => messages::UNAUTHENTICATED,
            Self::MissingPermission => messages::MISSING_PERMISSION,
            Self::NotFound => messages::NOT_FOUND,
            Self::UpdateConflict => {
                "Could not update the resource because of conflicting modifications."
            }
            Self::InvalidQuery => messages::INVALID_FILTERS,
            Self::InvalidRequestBody => messages::INVALID_JSON,
            Self::OutboundRequestNotFound => {
                "An outbound request to another resource has failed with status code 404."
            }
            Self::OutboundRequestForbidden => {
                "An outbound request to another resource has failed with status code 403."
            }
            Self::InternalServerError => messages::INTERNAL_ERROR,
            Self::TooManyRequests => messages::TOO_MANY_REQUESTS,
            Self::PropertyConstraintViolation
            | Self::PropertyMissingError
            | Self::PropertyFormatError
            | Self::BadRequest
            | Self::TypeNotSupported => "",
        }
    }
}

/// Message strings of the HAL error bodies (README §3.1, §3.2).
pub mod messages {
    pub const MULTIPLE_ERRORS: &str = "Multiple field constraints have been violated.";
    pub const UNAUTHENTICATED: &str = "You need to be authenticated to access this resource.";
    pub const WRONG_CREDENTIALS: &str = "You did not provide the correct credentials.";
    pub const MISSING_PERMISSION: &str = "You are not authorized to access this resource.";
    pub const NOT_FOUND: &str = "The requested resource could not be found.";
    pub const INVALID_FILTERS: &str = "The query parameter 'filters' is missing or malformed.";
    /// A notification filter naming a work package that does not exist or is not visible; sent
    /// as the only element of an array `message`, as real OpenProject does.
    pub const INVALID_RESOURCE_FILTER: &str = "Filters Resource filter has invalid values.";
    pub const INVALID_JSON: &str = "The request could not be parsed as JSON.";
    pub const BODY_TOO_LARGE: &str = "The request body is too large.";
    pub const INTERNAL_ERROR: &str = "An internal error has occurred.";
    pub const TOO_MANY_REQUESTS: &str = "Too many failed login attempts. Please try again later.";
    /// The plain-text body of the 406 for a write without `Content-Type`.
    pub const MISSING_CONTENT_TYPE: &str = "Missing content-type header";

    pub fn type_not_supported(actual: &str) -> String {
        format!("Expected CONTENT-TYPE to be 'application/json' but got '{actual}'.")
    }
    pub fn property_missing(property: &str) -> String {
        format!("Missing property '{property}'.")
    }
    pub fn property_format(property: &str, format: &str, actual: &str) -> String {
        format!("Invalid format for property '{property}': Expected format like '{format}', but got '{actual}'.")
    }
    pub fn bad_request(detail: &str) -> String {
        format!("Bad request: {detail}")
    }
}

/// `_embedded.details`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ErrorDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribute: Option<String>,
    #[serde(
        rename = "parseError",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub parse_error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ErrorEmbedded {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<ErrorDetails>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<HalError>,
}

/// An error's `message`: a string, or (as real OpenProject answers some query errors) an array
/// of the full messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ErrorMessage {
    One(String),
    Many(Vec<String>),
}

impl From<String> for ErrorMessage {
    fn from(message: String) -> Self {
        Self::One(message)
    }
}

impl From<&str> for ErrorMessage {
    fn from(message: &str) -> Self {
        Self::One(message.to_string())
    }
}

impl From<Vec<String>> for ErrorMessage {
    fn from(messages: Vec<String>) -> Self {
        Self::Many(messages)
    }
}

impl std::fmt::Display for ErrorMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::One(message) => f.write_str(message),
            Self::Many(messages) => f.write_str(&messages.join(" ")),
        }
    }
}

/// The OpenProject error body (`_type: "Error"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HalError {
    #[serde(rename = "_type")]
    pub type_: String,
    #[serde(rename = "errorIdentifier")]
    pub error_identifier: String,
    pub message: ErrorMessage,
    #[serde(rename = "_embedded", default, skip_serializing_if = "Option::is_none")]
    pub embedded: Option<ErrorEmbedded>,
}

impl HalError {
    pub fn new(id: ErrorId, message: impl Into<ErrorMessage>) -> Self {
        Self {
            type_: "Error".into(),
            error_identifier: id.urn(),
            message: message.into(),
            embedded: None,
        }
    }

    /// The error with its default message.
    pub fn of(id: ErrorId) -> Self {
        Self::new(id, id.default_message())
    }

    /// A `PropertyConstraintViolation` for `attribute` (camelCase) with its full message.
    pub fn violation(attribute: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ErrorId::PropertyConstraintViolation, message.into()).with_attribute(attribute)
    }

    pub fn with_attribute(mut self, attribute: impl Into<String>) -> Self {
        let embedded = self.embedded.get_or_insert_with(Default::default);
        embedded
            .details
            .get_or_insert_with(Default::default)
            .attribute = Some(attribute.into());
        self
    }

    pub fn with_parse_error(mut self, parse_error: impl Into<String>) -> Self {
        let embedded = self.embedded.get_or_insert_with(Default::default);
        embedded
            .details
            .get_or_insert_with(Default::default)
            .parse_error = Some(parse_error.into());
        self
    }

    /// The wrapping rule: one error is itself; two or more become `MultipleErrors`.
    pub fn wrap(mut errors: Vec<HalError>) -> Option<Self> {
        match errors.len() {
            0 => None,
            1 => errors.pop(),
            _ => Some(Self {
                embedded: Some(ErrorEmbedded {
                    details: None,
                    errors,
                }),
                ..Self::of(ErrorId::MultipleErrors)
            }),
        }
    }

    /// The identifier without the URN prefix.
    pub fn identifier_name(&self) -> &str {
        self.error_identifier
            .strip_prefix(ERROR_URN_PREFIX)
            .unwrap_or(&self.error_identifier)
    }

    pub fn attribute(&self) -> Option<&str> {
        self.embedded
            .as_ref()?
            .details
            .as_ref()?
            .attribute
            .as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::assert_round_trip;

    #[test]
    fn error_fixtures_round_trip() {
        for name in [
            "op_error_unauthenticated",
            "op_error_wrong_credentials",
            "op_error_missing_permission",
            "op_error_not_found",
            "op_error_property_constraint_violation",
            "op_error_multiple_errors",
            "op_error_invalid_request_body",
            "op_error_type_not_supported",
            "op_error_body_too_large",
            "op_error_invalid_resource_filter",
        ] {
            assert_round_trip::<HalError>(name);
        }
    }

    #[test]
    fn builders_match_fixtures() {
        let load = |n| serde_json::from_value::<HalError>(crate::fixtures::load(n)).unwrap();
        assert_eq!(
            HalError::of(ErrorId::Unauthenticated),
            load("op_error_unauthenticated")
        );
        assert_eq!(HalError::of(ErrorId::NotFound), load("op_error_not_found"));
        assert_eq!(
            HalError::wrap(vec![
                HalError::violation("host", "Host has already been taken."),
                HalError::violation("name", "Name has already been taken."),
            ])
            .unwrap(),
            load("op_error_multiple_errors")
        );
        assert_eq!(
            HalError::of(ErrorId::InvalidRequestBody)
                .with_parse_error("expected value at line 1 column 1"),
            load("op_error_invalid_request_body")
        );
        assert_eq!(
            HalError::new(
                ErrorId::InvalidQuery,
                vec![messages::INVALID_RESOURCE_FILTER.to_string()]
            ),
            load("op_error_invalid_resource_filter")
        );
    }

    #[test]
    fn statuses() {
        assert_eq!(ErrorId::TypeNotSupported.status(), 415);
        assert_eq!(
            ErrorId::OutboundRequestForbidden.urn(),
            "urn:openproject-org:api:v3:errors:OutboundRequest:Forbidden"
        );
        assert_eq!(HalError::wrap(vec![]), None);
        for id in ErrorId::ALL {
            assert_eq!(ErrorId::from_urn(&id.urn()), Some(id));
        }
    }
}

/// `pageSize` (default 20, at most 1000, `-1` = the maximum) and `offset` (the page number,
/// from 1) of a collection request (README §3.1). Unparseable values fall back to the defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    pub page_size: u64,
    pub page: u64,
}

impl Paging {
    pub const DEFAULT_PAGE_SIZE: u64 = 20;
    pub const MAX_PAGE_SIZE: u64 = 1000;

    pub fn parse(page_size: Option<&str>, offset: Option<&str>) -> Self {
        let page_size = match page_size.map(str::trim) {
            Some("-1") => Self::MAX_PAGE_SIZE,
            Some(raw) => raw
                .parse::<u64>()
                .map(|n| n.min(Self::MAX_PAGE_SIZE))
                .unwrap_or(Self::DEFAULT_PAGE_SIZE),
            None => Self::DEFAULT_PAGE_SIZE,
        };
        let page = offset
            .and_then(|raw| raw.trim().parse::<u64>().ok())
            .filter(|n| *n >= 1)
            .unwrap_or(1);
        Self { page_size, page }
    }

    /// A paged collection of one page of `total` elements.
    pub fn collection<T>(
        &self,
        self_href: impl Into<String>,
        total: u64,
        elements: Vec<T>,
    ) -> Collection<T> {
        let mut collection = Collection::unpaged(self_href, elements);
        collection.total = total;
        collection.page_size = Some(self.page_size);
        collection.offset = Some(self.page);
        collection
    }
}

#[cfg(test)]
mod paging_tests {
    use super::Paging;

    #[test]
    fn paging_defaults_and_bounds() {
        assert_eq!(
            Paging::parse(None, None),
            Paging {
                page_size: 20,
                page: 1
            }
        );
        assert_eq!(
            Paging::parse(Some("-1"), Some("2")),
            Paging {
                page_size: 1000,
                page: 2
            }
        );
        assert_eq!(
            Paging::parse(Some("5000"), Some("0")),
            Paging {
                page_size: 1000,
                page: 1
            }
        );
        assert_eq!(
            Paging::parse(Some("x"), Some("y")),
            Paging {
                page_size: 20,
                page: 1
            }
        );
    }
}
