//! Turning untyped frames into the three typed tables of the contract, finding every
//! row-level violation on the way: missing required columns, empty or duplicate ids,
//! unparseable timestamps, unknown outcomes, duplicate outcomes.
//!
//! Typed layout (the rest of leadscore relies on it):
//! - leads: `lead_id` String, `created_at` Datetime(µs, UTC), then each attribute as
//!   String (categorical, empty = null) or Float64 (numeric).
//! - interactions: `lead_id`, `occurred_at` Datetime(µs), `event_type`, `detail` (nullable).
//! - outcomes: `lead_id`, `outcome` (`won`/`lost`, lower case), `closed_at` Datetime(µs).

use polars::prelude::*;

use super::columns::*;
use super::source::problem;
use super::text::ViewCache;
use super::timestamp::{parse_timestamp, MICROS_PER_DAY};
use crate::error::{Problems, Result};

/// Spreadsheet row of the record at 0-based `index` (the header is row 1).
pub(crate) fn spreadsheet_row(index: usize) -> usize {
    index + 2
}

/// Types a leads frame; `None` when problems make it unusable (they are in `problems`).
pub(crate) fn type_leads(
    file: &str,
    raw: &DataFrame,
    problems: &mut Problems,
) -> Result<Option<DataFrame>> {
    if !has_columns(file, raw, &[LEAD_ID, CREATED_AT], problems) {
        return Ok(None);
    }
    let before = problems.total;
    if raw.height() == 0 {
        problems.push(problem(
            file,
            None,
            None,
            "the table has a header but no leads".into(),
        ));
    }
    let lead_id = text(raw, LEAD_ID)?;
    check_ids(file, &lead_id, true, problems);
    let created_at = timestamps(file, raw.column(CREATED_AT)?, problems)?;
    let mut columns = vec![lead_id.into_column(), created_at];
    for column in raw.columns() {
        let name = column.name().as_str();
        if name != LEAD_ID && name != CREATED_AT {
            if let Some(typed) = attribute(file, column, problems)? {
                columns.push(typed);
            }
        }
    }
    if problems.total > before {
        return Ok(None);
    }
    Ok(Some(DataFrame::new_infer_height(columns)?))
}

/// Types an interactions frame. A header-only file is valid: many CRM exports have no
/// event table and carry activity as counted lead columns instead.
pub(crate) fn type_interactions(
    file: &str,
    raw: &DataFrame,
    problems: &mut Problems,
) -> Result<Option<DataFrame>> {
    if !has_columns(file, raw, &[LEAD_ID, OCCURRED_AT, EVENT_TYPE], problems) {
        return Ok(None);
    }
    let before = problems.total;
    // The columns are checked on two cores; their problems are reported column by
    // column, in the order of a check on one core.
    let (ids, rest) = rayon::join(
        || -> Result<_> {
            let mut found = Problems::default();
            let lead_id = text(raw, LEAD_ID)?;
            check_ids(file, &lead_id, false, &mut found);
            Ok((lead_id, found))
        },
        || -> Result<_> {
            let mut found = Problems::default();
            let occurred_at = timestamps(file, raw.column(OCCURRED_AT)?, &mut found)?;
            let event_type = text(raw, EVENT_TYPE)?;
            check_present(file, EVENT_TYPE, &event_type, &mut found);
            let detail = match raw.column(DETAIL) {
                Ok(_) => blank_to_null(&text(raw, DETAIL)?),
                Err(_) => StringChunked::full_null(DETAIL.into(), raw.height()),
            };
            Ok((occurred_at, event_type, detail, found))
        },
    );
    let (lead_id, id_problems) = ids?;
    let (occurred_at, event_type, detail, other_problems) = rest?;
    problems.absorb_shifted(id_problems, 0, true);
    problems.absorb_shifted(other_problems, 0, true);
    if problems.total > before {
        return Ok(None);
    }
    let columns = vec![
        lead_id.into_column(),
        occurred_at,
        event_type.into_column(),
        detail.into_column(),
    ];
    Ok(Some(DataFrame::new(raw.height(), columns)?))
}

/// Types an outcomes frame: one row per closed lead, `won` or `lost`.
pub(crate) fn type_outcomes(
    file: &str,
    raw: &DataFrame,
    problems: &mut Problems,
) -> Result<Option<DataFrame>> {
    if !has_columns(file, raw, &[LEAD_ID, OUTCOME, CLOSED_AT], problems) {
        return Ok(None);
    }
    let before = problems.total;
    let lead_id = text(raw, LEAD_ID)?;
    check_ids(file, &lead_id, true, problems);
    let outcome = text(raw, OUTCOME)?;
    let normalised: StringChunked = outcome
        .iter()
        .enumerate()
        .map(|(index, value)| {
            let value = value.unwrap_or("").trim();
            // Already `won` or `lost` (the usual case): nothing to lower.
            if value == WON || value == LOST {
                return Some(std::borrow::Cow::Borrowed(value));
            }
            let lower = value.to_ascii_lowercase();
            if lower == WON || lower == LOST {
                Some(std::borrow::Cow::Owned(lower))
            } else {
                let shown = if value.is_empty() {
                    "empty".to_string()
                } else {
                    format!("'{value}'")
                };
                problems.push(problem(
                    file,
                    Some(spreadsheet_row(index)),
                    Some(OUTCOME.into()),
                    format!("{shown} is not an outcome: expected `won` or `lost`"),
                ));
                None
            }
        })
        .collect::<StringChunked>()
        .with_name(OUTCOME.into());
    let closed_at = timestamps(file, raw.column(CLOSED_AT)?, problems)?;
    // A deal cannot have closed after the export was made: a close in 2099 is a typo or
    // a placeholder, and it would make "the data as of" the year 2099.
    let tomorrow = chrono::Utc::now().timestamp_micros() + MICROS_PER_DAY;
    let physical = closed_at.to_physical_repr();
    for (index, closed) in physical.i64()?.iter().enumerate() {
        if let Some(closed) = closed.filter(|&c| c > tomorrow) {
            problems.push(problem(
                file,
                Some(spreadsheet_row(index)),
                Some(CLOSED_AT.into()),
                format!(
                    "{} is in the future: a deal cannot have closed yet",
                    crate::data::timestamp::format_timestamp(closed)
                ),
            ));
        }
    }
    if problems.total > before {
        return Ok(None);
    }
    let columns = vec![lead_id.into_column(), normalised.into_column(), closed_at];
    Ok(Some(DataFrame::new(raw.height(), columns)?))
}

/// Reports each required column the frame lacks; true when all are there.
fn has_columns(file: &str, raw: &DataFrame, required: &[&str], problems: &mut Problems) -> bool {
    let mut all = true;
    for name in required {
        if raw.column(name).is_err() {
            all = false;
            let found: Vec<&str> = raw.get_column_names().iter().map(|n| n.as_str()).collect();
            problems.push(problem(
                file,
                Some(1),
                Some((*name).into()),
                format!("required column is missing (found: {})", found.join(", ")),
            ));
        }
    }
    all
}

/// The column as text, whatever type the file gave it (Parquet ids may be integers).
fn text(raw: &DataFrame, name: &str) -> Result<StringChunked> {
    let column = raw.column(name)?.cast(&DataType::String)?;
    Ok(column.str()?.clone())
}

fn blank_to_null(values: &StringChunked) -> StringChunked {
    let mut any_blank = false;
    let mut fine: ViewCache<()> = ViewCache::new();
    for (array, chunk) in values.downcast_iter().zip(values.chunks()) {
        fine.clear();
        let validity = chunk.validity();
        for (i, view) in array.views().iter().enumerate() {
            let view = view.as_u128();
            if validity.is_some_and(|v| !v.get_bit(i)) || fine.get(view).is_some() {
                continue;
            }
            let value = array.value(i);
            if !starts_visibly(value) && value.trim().is_empty() {
                any_blank = true;
                break;
            }
            fine.put(view, ());
        }
    }
    if !any_blank {
        return values.clone();
    }
    values
        .iter()
        .map(|v| v.filter(|s| !s.trim().is_empty()))
        .collect::<StringChunked>()
        .with_name(values.name().clone())
}

/// Whether `text` starts with a printable ASCII character, so that trimming cannot
/// leave it empty (every whitespace character is either ASCII or starts above 0x7F).
fn starts_visibly(text: &str) -> bool {
    matches!(text.as_bytes().first(), Some(0x21..=0x7E))
}

/// Every value must be present and non-blank.
fn check_present(file: &str, column: &str, values: &StringChunked, problems: &mut Problems) {
    // Views already found fine are not looked at again (a dictionary's values, a run of
    // one lead's rows).
    let mut fine: ViewCache<()> = ViewCache::new();
    let mut offset = 0;
    for (array, chunk) in values.downcast_iter().zip(values.chunks()) {
        fine.clear();
        let validity = chunk.validity();
        for (i, view) in array.views().iter().enumerate() {
            let present = validity.is_none_or(|v| v.get_bit(i));
            let view = view.as_u128();
            if present && fine.get(view).is_some() {
                continue;
            }
            let reason = match present.then(|| array.value(i)) {
                // The common case, decided without trimming.
                Some(v) if starts_visibly(v) && !v.as_bytes().contains(&0) => None,
                None => Some("required value is empty"),
                Some(v) if v.trim().is_empty() => Some("required value is empty"),
                // A NUL byte in an id is a damaged export: no CRM writes one, and ids
                // that differ only after it would print alike.
                Some(v) if v.contains('\0') => {
                    Some("holds a NUL byte (\\0): the export is damaged")
                }
                Some(_) => None,
            };
            match reason {
                None => fine.put(view, ()),
                Some(reason) => problems.push(problem(
                    file,
                    Some(spreadsheet_row(offset + i)),
                    Some(column.into()),
                    reason.into(),
                )),
            }
        }
        offset += array.len();
    }
}

/// Ids must be present; in a table keyed by lead, also unique.
fn check_ids(file: &str, ids: &StringChunked, unique: bool, problems: &mut Problems) {
    check_present(file, LEAD_ID, ids, problems);
    if !unique {
        return;
    }
    // Ids in strictly increasing order (as exports sorted by id are) cannot repeat.
    let mut previous: Option<&str> = None;
    let increasing = ids.null_count() == 0
        && ids.iter().flatten().all(|id| {
            let above = previous.is_none_or(|p| p < id);
            previous = Some(id);
            above
        });
    if increasing {
        return;
    }
    let mut first_row: PlHashMap<&str, usize> = PlHashMap::with_capacity(ids.len());
    for (index, id) in ids.iter().enumerate() {
        let Some(id) = id.filter(|v| !v.trim().is_empty()) else {
            continue;
        };
        let row = spreadsheet_row(index);
        if let Some(first) = first_row.insert(id, row) {
            first_row.insert(id, first);
            problems.push(problem(
                file,
                Some(row),
                Some(LEAD_ID.into()),
                format!("duplicate lead_id '{id}' (first seen in row {first})"),
            ));
        }
    }
}

/// Parses a required timestamp column into Datetime(µs, naive UTC).
fn timestamps(file: &str, column: &Column, problems: &mut Problems) -> Result<Column> {
    let name = column.name().clone();
    let micros: Int64Chunked = match column.dtype() {
        DataType::String => {
            // Chunk by chunk, so that the times keep the text's chunks: the other columns
            // of the table have them too, and passes over several columns at once (spec
            // learning) then need no copy to align them.
            let mut offset = 0;
            let mut parsed_chunks = column.str()?.downcast_iter().map(|array| {
                let parsed: Int64Chunked = array
                    .iter()
                    .enumerate()
                    .map(|(i, value)| {
                        let parsed = value.and_then(parse_timestamp);
                        if parsed.is_none() {
                            let reason = match value {
                                None => "required timestamp is empty".to_string(),
                                Some(text) => format!(
                                    "cannot read '{text}' as a timestamp (expected ISO 8601, e.g. 2026-03-01 or 2026-03-01T09:30:00Z)"
                                ),
                            };
                            problems.push(problem(file, Some(spreadsheet_row(offset + i)), Some(name.to_string()), reason));
                        }
                        parsed
                    })
                    .collect();
                offset += array.len();
                parsed
            });
            let mut micros = parsed_chunks
                .next()
                .unwrap_or_else(|| Int64Chunked::full_null(name.clone(), 0));
            for chunk in parsed_chunks {
                micros.append(&chunk)?;
            }
            micros
        }
        DataType::Datetime(_, zone) => {
            let in_micros =
                column.cast(&DataType::Datetime(TimeUnit::Microseconds, zone.clone()))?;
            in_micros.to_physical_repr().i64()?.clone()
        }
        DataType::Date => {
            let days = column.to_physical_repr().cast(&DataType::Int64)?;
            days.i64()?.apply_values(|d| d * MICROS_PER_DAY)
        }
        other => {
            // One problem for the column: every row of it is wrong the same way.
            problems.push(problem(
                file,
                None,
                Some(name.to_string()),
                format!("holds {other} values, expected timestamps"),
            ));
            return Ok(Int64Chunked::full_null(name.clone(), column.len())
                .into_datetime(TimeUnit::Microseconds, None)
                .into_column());
        }
    };
    if !matches!(column.dtype(), DataType::String) && micros.null_count() > 0 {
        for (index, value) in micros.iter().enumerate() {
            if value.is_none() {
                problems.push(problem(
                    file,
                    Some(spreadsheet_row(index)),
                    Some(name.to_string()),
                    "required timestamp is empty".into(),
                ));
            }
        }
    }
    Ok(micros
        .with_name(name)
        .into_datetime(TimeUnit::Microseconds, None)
        .into_column())
}

/// An attribute column: numbers become Float64, everything else categorical text with
/// blanks as missing. A column that is neither (lists, structs, raw bytes, as Parquet
/// can hold) is a problem naming the column, not an internal error.
fn attribute(file: &str, column: &Column, problems: &mut Problems) -> Result<Option<Column>> {
    let dtype = column.dtype();
    if dtype.is_primitive_numeric() {
        return Ok(Some(column.cast(&DataType::Float64)?));
    }
    let refuse = |problems: &mut Problems, what: String| {
        problems.push(problem(
            file,
            None,
            Some(column.name().to_string()),
            format!("holds {what}, which cannot be an attribute: export it as text or numbers, or drop the column"),
        ));
    };
    if dtype.is_nested() || matches!(dtype, DataType::Binary | DataType::BinaryOffset) {
        refuse(problems, format!("{dtype} values"));
        return Ok(None);
    }
    let Ok(as_text) = column.cast(&DataType::String) else {
        refuse(problems, format!("{dtype} values"));
        return Ok(None);
    };
    let as_text = blank_to_null(as_text.str()?);
    // A column whose first value is not a number is text: no need to parse the rest.
    let first_is_text = match as_text.iter().flatten().next() {
        Some(first) => {
            StringChunked::from_slice(PlSmallStr::EMPTY, &[first])
                .cast(&DataType::Float64)?
                .null_count()
                > 0
        }
        None => false,
    };
    if first_is_text {
        return Ok(Some(as_text.into_column()));
    }
    let as_number = as_text.cast(&DataType::Float64)?;
    let present = as_text.len() - as_text.null_count();
    if present > 0 && as_number.null_count() == as_text.null_count() {
        return Ok(Some(as_number.into_column()));
    }
    Ok(Some(as_text.into_column()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsed_times_keep_the_chunks_of_their_text_and_locate_bad_rows() {
        let mut text =
            StringChunked::from_slice("occurred_at".into(), &["2026-01-01", "2026-01-02"]);
        text.append(&StringChunked::from_slice(
            "occurred_at".into(),
            &["2026-01-03", "soon"],
        ))
        .unwrap();
        let column = text.into_column();
        let mut problems = Problems::default();
        let times = timestamps("i.csv", &column, &mut problems).unwrap();
        let lengths: Vec<usize> = times.as_materialized_series().chunk_lengths().collect();
        assert_eq!(lengths, [2, 2]);
        assert_eq!(problems.total, 1);
        let found = format!("{:?}", problems);
        // Row 5 of the file: the header is row 1, "soon" the fourth value.
        assert!(
            found.contains("row: Some(5)") && found.contains("soon"),
            "{found}"
        );
    }
}
