//! The contract's column names and values, named once, and the join on its key.

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

/// Every table is keyed by lead, so every join here is on `lead_id`: one call says so.
pub(crate) trait JoinOnLead {
    /// `self` joined with `other` on `lead_id`, `how` as polars joins.
    fn join_on_lead(
        self,
        other: polars::prelude::LazyFrame,
        how: polars::prelude::JoinType,
    ) -> Self;
}

impl JoinOnLead for polars::prelude::LazyFrame {
    fn join_on_lead(
        self,
        other: polars::prelude::LazyFrame,
        how: polars::prelude::JoinType,
    ) -> Self {
        use polars::prelude::{col, JoinArgs};
        self.join(other, [col(LEAD_ID)], [col(LEAD_ID)], JoinArgs::new(how))
    }
}
