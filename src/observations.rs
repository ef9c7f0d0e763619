//! What was known as of a time: observations (a lead seen as of a cutoff) and the
//! point-in-time cut. An observation sees only the interactions that happened strictly
//! before its cutoff. The cut is written here once for frames
//! (`visible_interactions`, which the point model and the features' polars oracle
//! join through) and once for the encoded interactions
//! (`crate::data::events::EventIndex::before`, which the feature engine and spec
//! learning read); a property test holds each to the rule.

use polars::prelude::*;

use crate::data::columns::*;
use crate::error::Result;

/// Column of an observation's cutoff in observation frames.
pub const AS_OF: &str = "as_of";
/// Row number of the observation, the key of every result.
pub const OBS: &str = "obs";
/// Days from a visible interaction to its observation's cutoff (fractional, > 0).
pub(crate) const AGE_DAYS: &str = "__age_days";

/// The type of an observation's cutoff.
pub(crate) fn micros_type() -> DataType {
    DataType::Datetime(TimeUnit::Microseconds, None)
}

/// One observation per lead, all as of the same time (microseconds since the epoch).
pub fn observations_at(leads: &DataFrame, as_of: i64) -> Result<DataFrame> {
    Ok(leads
        .clone()
        .lazy()
        .select([col(LEAD_ID), lit(as_of).cast(micros_type()).alias(AS_OF)])
        .collect()?)
}

/// Every (observation, interaction) pair where the interaction is the observation's
/// lead's and happened strictly before its cutoff, with the interaction's age at the
/// cutoff in days ([`AGE_DAYS`]). `observations` has `lead_id` and `as_of` (and
/// whatever else the caller keys by); `interactions` has `lead_id` and `occurred_at`.
pub(crate) fn visible_interactions(interactions: LazyFrame, observations: LazyFrame) -> LazyFrame {
    interactions
        .join_on_lead(observations, JoinType::Inner)
        .filter(col(OCCURRED_AT).lt(col(AS_OF)))
        .with_column(
            (col(AS_OF) - col(OCCURRED_AT))
                .dt()
                .total_days(true)
                .alias(AGE_DAYS),
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::events::EventIndex;
    use proptest::prelude::*;

    fn times(name: &str, values: Vec<i64>) -> Column {
        Int64Chunked::from_vec(name.into(), values)
            .into_datetime(TimeUnit::Microseconds, None)
            .into_column()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Both forms of the cut see exactly the interactions of the observation's lead
        /// strictly before its cutoff: one at the cutoff or later is never seen, and
        /// none before it is missed.
        #[test]
        fn an_observation_sees_exactly_what_happened_before_its_cutoff(
            events in prop::collection::vec((0u8..5, 0i64..40), 0..80),
            cutoffs in prop::collection::vec((0u8..6, 0i64..45), 1..12),
        ) {
            let hour = 3_600_000_000i64;
            let leads = df!(LEAD_ID => (0..5).map(|i| format!("L{i}")).collect::<Vec<_>>()).unwrap();
            let interactions = DataFrame::new_infer_height(vec![
                Column::new(LEAD_ID.into(), events.iter().map(|e| format!("L{}", e.0)).collect::<Vec<_>>()),
                times(OCCURRED_AT, events.iter().map(|e| e.1 * hour).collect()),
                Column::new(EVENT_TYPE.into(), vec!["open"; events.len()]),
                Column::new(DETAIL.into(), vec![None::<&str>; events.len()]),
            ]).unwrap();
            let observations = DataFrame::new_infer_height(vec![
                Column::new(LEAD_ID.into(), cutoffs.iter().map(|c| format!("L{}", c.0)).collect::<Vec<_>>()),
                times(AS_OF, cutoffs.iter().map(|c| c.1 * hour).collect()),
            ]).unwrap();
            let expected = |lead: u8, cutoff: i64| -> Vec<i64> {
                let mut seen: Vec<i64> = events
                    .iter()
                    .filter(|e| e.0 == lead && e.1 < cutoff)
                    .map(|e| e.1 * hour)
                    .collect();
                seen.sort_unstable();
                seen
            };

            let joined = visible_interactions(
                interactions.clone().lazy(),
                observations.clone().lazy().with_row_index(OBS, None),
            )
            .collect()
            .unwrap();
            let obs = joined.column(OBS).unwrap().idx().unwrap().clone();
            let at = joined.column(OCCURRED_AT).unwrap().to_physical_repr().i64().unwrap().clone();
            let age = joined.column(AGE_DAYS).unwrap().f64().unwrap().clone();
            let index = EventIndex::new(&leads, &interactions).unwrap();
            for (o, &(lead, cutoff)) in cutoffs.iter().enumerate() {
                let mut seen: Vec<i64> = Vec::new();
                for i in 0..joined.height() {
                    if obs.get(i) == Some(o as IdxSize) {
                        let t = at.get(i).unwrap();
                        seen.push(t);
                        let days = (cutoff * hour - t) as f64 / 86_400_000_000.0;
                        prop_assert!((age.get(i).unwrap() - days).abs() < 1e-9);
                    }
                }
                seen.sort_unstable();
                prop_assert_eq!(&seen, &expected(lead, cutoff));
                let row = lead as usize;
                let indexed: Vec<i64> = index.before(row, cutoff * hour).iter().map(|e| e.at).collect();
                let wanted = if row < 5 { expected(lead, cutoff) } else { Vec::new() };
                prop_assert_eq!(indexed, wanted);
            }
        }
    }
}
