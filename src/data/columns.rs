//! The contract's column names and values, named once.

/// Lead identifier, in all three tables.
pub const LEAD_ID: &str = "lead_id";
/// When the lead entered the CRM (leads).
pub const CREATED_AT: &str = "created_at";
/// When an interaction happened (interactions).
pub const OCCURRED_AT: &str = "occurred_at";
/// What kind of interaction (interactions).
pub const EVENT_TYPE: &str = "event_type";
/// Page path, asset or campaign of an interaction (interactions, optional).
pub const DETAIL: &str = "detail";
/// `won` or `lost` (outcomes).
pub const OUTCOME: &str = "outcome";
/// When the deal closed (outcomes).
pub const CLOSED_AT: &str = "closed_at";
/// The outcome value of a won deal.
pub const WON: &str = "won";
/// The outcome value of a lost deal.
pub const LOST: &str = "lost";
