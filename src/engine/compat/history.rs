//! Docker's `history --format` row.

use serde::Serialize;

/// One row of `history`, with docker's field names.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct HistoryRow {
    #[serde(rename = "ID")]
    pub id: String,
    pub created_since: String,
    pub created_at: String,
    pub created_by: String,
    pub size: String,
    pub comment: String,
}

/// Template field → table header.
pub const HISTORY_HEADERS: &[(&str, &str)] = &[
    ("ID", "IMAGE"),
    ("CreatedSince", "CREATED"),
    ("CreatedAt", "CREATED AT"),
    ("CreatedBy", "CREATED BY"),
    ("Size", "SIZE"),
    ("Comment", "COMMENT"),
];
