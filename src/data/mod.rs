//! Reading and validating the three input tables (leads, interactions, outcomes).
//!
//! Everything downstream (points, features, training, scoring) receives [`Tables`] and
//! may trust its typing: the checks of the contract happen here, once, and every
//! violation found is reported together with its file, row and column.

pub(crate) mod chunks;
pub mod columns;
pub(crate) mod csv_shape;
pub mod events;
pub(crate) mod fingerprint;
pub mod history;
pub(crate) mod source;
pub(crate) mod summary;
pub(crate) mod tables;
pub(crate) mod text;
pub mod timestamp;
pub(crate) mod training_rows;

use std::fmt::Write as _;
use std::path::PathBuf;

use polars::prelude::*;

use crate::error::{Problems, Result};
use columns::*;
use source::{problem, read_frame};
use tables::spreadsheet_row;

/// Where the three tables come from. Outcomes are optional: scoring has none.
#[derive(Debug, Clone)]
pub struct InputPaths {
    /// The leads table.
    pub leads: PathBuf,
    /// The interactions table (may be header-only).
    pub interactions: PathBuf,
    /// The outcomes table, when closed deals are needed.
    pub outcomes: Option<PathBuf>,
}

/// What to do with interactions or outcomes whose `lead_id` is not in the leads table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum UnknownLeadPolicy {
    /// Count them and show examples on stderr; they never reach a feature.
    #[default]
    Warn,
    /// Refuse the input, listing each row.
    Error,
}

/// Settings for [`load`].
#[derive(Debug, Clone, Copy, Default)]
pub struct LoadOptions {
    /// How to treat rows that name a lead the leads table does not have.
    pub unknown_leads: UnknownLeadPolicy,
}

/// Rows of one table that name leads absent from the leads table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnknownLeads {
    /// How many rows.
    pub(crate) rows: usize,
    /// The first few, as (spreadsheet row, lead_id).
    pub(crate) examples: Vec<(usize, String)>,
}

/// The typed, validated input tables (layout in `tables`).
#[derive(Debug, Clone)]
pub struct Tables {
    /// One row per lead.
    pub leads: DataFrame,
    /// One row per interaction, in file order.
    pub interactions: DataFrame,
    /// One row per closed lead (empty when no outcomes file was given).
    pub outcomes: DataFrame,
    /// Where they were read from.
    pub paths: InputPaths,
    /// Interactions naming unknown leads.
    pub unknown_in_interactions: UnknownLeads,
    /// Outcomes naming unknown leads.
    pub unknown_in_outcomes: UnknownLeads,
}

/// How many examples of unknown leads are kept.
pub(crate) const UNKNOWN_EXAMPLES: usize = 5;

/// Reads, types and cross-checks the tables; every problem in all files is reported in
/// one error (exit status 2).
pub fn load(paths: &InputPaths, options: LoadOptions) -> Result<Tables> {
    // The three files are read at once (the interactions take most of the time); their
    // problems are reported file by file, in this order.
    let read = |path: &std::path::Path, typer: Typer| {
        let mut found = Problems::default();
        read_typed(path, &mut found, typer).map(|frame| (frame, found))
    };
    let (interactions, (leads, outcomes)) = rayon::join(
        || read(&paths.interactions, tables::type_interactions),
        || {
            rayon::join(
                || read(&paths.leads, tables::type_leads),
                || match &paths.outcomes {
                    Some(path) => read(path, tables::type_outcomes),
                    None => Ok((Some(empty_outcomes()?), Problems::default())),
                },
            )
        },
    );
    let mut problems = Problems::default();
    let mut take = |read: Result<(Option<DataFrame>, Problems)>| {
        read.map(|(frame, found)| {
            problems.absorb_shifted(found, 0, true);
            frame
        })
    };
    let leads = take(leads)?;
    let interactions = take(interactions)?;
    let outcomes = take(outcomes)?;
    let (Some(leads), Some(interactions), Some(outcomes)) = (leads, interactions, outcomes) else {
        return Err(crate::Error::InvalidInput(problems));
    };
    problems.into_result()?;

    let known = KnownLeads::of(&leads)?;
    let unknown_in_interactions = unknown_leads(&known, &interactions)?;
    let outcomes_name = paths
        .outcomes
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let unknown_in_outcomes = unknown_leads(&known, &outcomes)?;
    if options.unknown_leads == UnknownLeadPolicy::Error {
        let mut problems = Problems::default();
        let interactions_name = paths.interactions.display().to_string();
        for (file, frame) in [
            (&interactions_name, &interactions),
            (&outcomes_name, &outcomes),
        ] {
            report_unknown(file, &known, frame, &mut problems)?;
        }
        problems.into_result()?;
    }
    closed_before_created(&outcomes_name, &leads, &known, &outcomes)?;
    drop(known);
    // Counted and reported above; from here on they are ignored, as the warning says, so
    // no later count (the training minimum, say) includes rows that cannot be used.
    let interactions = only_known(&leads, interactions, unknown_in_interactions.rows)?;
    let outcomes = only_known(&leads, outcomes, unknown_in_outcomes.rows)?;
    Ok(Tables {
        leads,
        interactions,
        outcomes,
        paths: paths.clone(),
        unknown_in_interactions,
        unknown_in_outcomes,
    })
}

/// Refuses deals that closed before their lead was created, each with its row: such a
/// deal can be neither trained on (it was never open) nor explained, and dropping it
/// silently would hide a broken export.
fn closed_before_created(
    file: &str,
    leads: &DataFrame,
    known: &KnownLeads,
    outcomes: &DataFrame,
) -> Result<()> {
    let created = leads.column(CREATED_AT)?.to_physical_repr();
    let created = created.i64()?;
    let closed = outcomes.column(CLOSED_AT)?.to_physical_repr();
    let mut problems = Problems::default();
    let mut cursor = None;
    for (index, (id, closed)) in outcomes
        .column(LEAD_ID)?
        .str()?
        .iter()
        .zip(closed.i64()?.iter())
        .enumerate()
    {
        let (Some(id), Some(closed)) = (id, closed) else {
            continue;
        };
        let created = known
            .rows
            .find(id, &mut cursor)
            .and_then(|row| created.get(row));
        if let Some(created) = created.filter(|&c| closed < c) {
            problems.push(source::problem(
                file,
                Some(tables::spreadsheet_row(index)),
                Some(CLOSED_AT.into()),
                format!(
                    "lead '{id}' closed at {} but was created at {}: a deal cannot close before its lead exists",
                    timestamp::format_timestamp(closed),
                    timestamp::format_timestamp(created)
                ),
            ));
        }
    }
    problems.into_result()
}

/// The rows of `frame` whose time `column` is before `at`.
fn rows_before(frame: &DataFrame, column: &str, at: i64) -> Result<DataFrame> {
    let mask = frame.column(column)?.to_physical_repr().i64()?.lt(at);
    Ok(frame.filter(&mask)?)
}

/// The rows of `frame` whose lead_id is in `leads`, in order.
fn only_known(leads: &DataFrame, frame: DataFrame, unknown_rows: usize) -> Result<DataFrame> {
    if unknown_rows == 0 {
        return Ok(frame);
    }
    Ok(frame
        .lazy()
        .join_on_lead(leads.clone().lazy().select([col(LEAD_ID)]), JoinType::Semi)
        .collect()?)
}

type Typer = fn(&str, &DataFrame, &mut Problems) -> Result<Option<DataFrame>>;

fn read_typed(
    path: &std::path::Path,
    problems: &mut Problems,
    typer: Typer,
) -> Result<Option<DataFrame>> {
    let file = path.display().to_string();
    match read_frame(path)? {
        Ok(raw) => typer(&file, &raw, problems),
        Err(found) => {
            problems.push(found);
            Ok(None)
        }
    }
}

/// Reads and checks the leads table alone (exit status 2 on any problem), for runs that
/// read interactions in parts ([`chunks`]).
pub(crate) fn load_leads(path: &std::path::Path) -> Result<DataFrame> {
    let mut problems = Problems::default();
    let leads = read_typed(path, &mut problems, tables::type_leads)?;
    match leads {
        Some(leads) if problems.is_empty() => Ok(leads),
        _ => Err(crate::Error::InvalidInput(problems)),
    }
}

/// A typed interactions table with no rows.
pub(crate) fn empty_interactions() -> Result<DataFrame> {
    let columns = vec![
        Column::new_empty(LEAD_ID.into(), &DataType::String),
        Column::new_empty(
            OCCURRED_AT.into(),
            &DataType::Datetime(TimeUnit::Microseconds, None),
        ),
        Column::new_empty(EVENT_TYPE.into(), &DataType::String),
        Column::new_empty(DETAIL.into(), &DataType::String),
    ];
    Ok(DataFrame::new(0, columns)?)
}

/// "read 4,000 leads (12 attributes) from data/leads.csv", with its newline.
pub(crate) fn leads_line(leads: &DataFrame, path: &std::path::Path) -> String {
    let attributes = leads.width().saturating_sub(2);
    format!(
        "read {} leads ({attributes} attributes) from {}\n",
        thousands(leads.height()),
        path.display()
    )
}

/// The warning about rows of `what` (in `path`) that name unknown leads, if there are any.
pub(crate) fn unknown_warning(
    what: &str,
    path: &std::path::Path,
    unknown: &UnknownLeads,
) -> Option<String> {
    (unknown.rows > 0).then(|| {
        format!(
            "warning: {} {what} in {} name leads not in the leads table; they are ignored (e.g. {}). Use --unknown-leads error to refuse them.\n",
            thousands(unknown.rows),
            path.display(),
            examples(unknown)
        )
    })
}

/// A typed outcomes table with no rows, for inputs without outcomes.
pub(crate) fn empty_outcomes() -> Result<DataFrame> {
    let columns = vec![
        Column::new_empty(LEAD_ID.into(), &DataType::String),
        Column::new_empty(OUTCOME.into(), &DataType::String),
        Column::new_empty(
            CLOSED_AT.into(),
            &DataType::Datetime(TimeUnit::Microseconds, None),
        ),
    ];
    Ok(DataFrame::new(0, columns)?)
}

/// The leads table's ids, each with its row.
struct KnownLeads<'a> {
    rows: text::IdIndex<'a>,
}

impl<'a> KnownLeads<'a> {
    fn of(leads: &'a DataFrame) -> Result<Self> {
        // Typed leads have an id in every row.
        let ids = leads.column(LEAD_ID)?.str()?;
        let ids = ids.iter().map(Option::unwrap_or_default).collect();
        Ok(KnownLeads {
            rows: text::IdIndex::new(ids),
        })
    }

    /// Calls `unknown` with the index and id of every row of `frame` whose lead is not
    /// known (a missing id counts as ""), in order.
    fn each_unknown(&self, frame: &DataFrame, mut unknown: impl FnMut(usize, &str)) -> Result<()> {
        // Runs of one id are looked up once, and so is a run that repeats the one before.
        let mut previous: Option<(&str, bool)> = None;
        let mut cursor = None;
        text::each_run(frame.column(LEAD_ID)?.str()?, |start, len, id| {
            let id = id.unwrap_or_default();
            let known = match previous {
                Some((before, known)) if before == id => known,
                _ => {
                    let known = self.rows.find(id, &mut cursor).is_some();
                    previous = Some((id, known));
                    known
                }
            };
            if !known {
                for index in start..start + len {
                    unknown(index, id);
                }
            }
        });
        Ok(())
    }
}

fn unknown_leads(known: &KnownLeads, frame: &DataFrame) -> Result<UnknownLeads> {
    let mut found = UnknownLeads::default();
    known.each_unknown(frame, |index, id| found.note(index, id))?;
    Ok(found)
}

fn report_unknown(
    file: &str,
    known: &KnownLeads,
    frame: &DataFrame,
    problems: &mut Problems,
) -> Result<()> {
    known.each_unknown(frame, |index, id| {
        problems.push(unknown_lead_problem(file, index, id))
    })
}

/// The problem of the row at record `index` of `file` naming `id`, a lead the leads
/// table lacks (under `--unknown-leads error`).
pub(crate) fn unknown_lead_problem(file: &str, index: usize, id: &str) -> crate::error::Problem {
    problem(
        file,
        Some(spreadsheet_row(index)),
        Some(LEAD_ID.into()),
        format!("lead_id '{id}' is not in the leads table"),
    )
}

impl UnknownLeads {
    /// Counts the row at record `index`, naming `id`, keeping the first few as examples.
    pub(crate) fn note(&mut self, index: usize, id: &str) {
        self.rows += 1;
        if self.examples.len() < UNKNOWN_EXAMPLES {
            self.examples.push((spreadsheet_row(index), id.to_string()));
        }
    }
}

impl Tables {
    /// Names of the attribute columns, in file order.
    pub(crate) fn attribute_names(&self) -> Vec<String> {
        self.leads
            .get_column_names()
            .iter()
            .map(|n| n.to_string())
            .filter(|n| n != LEAD_ID && n != CREATED_AT)
            .collect()
    }

    /// A few lines for stderr saying what was read, and warnings about unknown leads.
    pub(crate) fn read_summary(&self) -> Result<String> {
        self.read_summary_of(self.interactions.height())
    }

    /// The same, when `interactions` rows were read but are not held as a frame.
    fn read_summary_of(&self, interactions: usize) -> Result<String> {
        let mut text = leads_line(&self.leads, &self.paths.leads);
        let _ = writeln!(
            text,
            "read {} interactions from {}",
            thousands(interactions),
            self.paths.interactions.display()
        );
        if let Some(path) = &self.paths.outcomes {
            let won = self.won_count()?;
            let _ = writeln!(
                text,
                "read {} outcomes ({} won, {} lost) from {}",
                thousands(self.outcomes.height()),
                thousands(won),
                thousands(self.outcomes.height() - won),
                path.display()
            );
        }
        let warnings = [
            unknown_warning(
                "interactions",
                &self.paths.interactions,
                &self.unknown_in_interactions,
            ),
            self.paths
                .outcomes
                .as_ref()
                .and_then(|path| unknown_warning("outcomes", path, &self.unknown_in_outcomes)),
        ];
        text.extend(warnings.into_iter().flatten());
        Ok(text)
    }

    /// What was known before `at`: the leads created, the interactions that happened
    /// and the deals closed before it (a backtest's training data, or `train --until`).
    pub fn known_at(&self, at: i64) -> Result<Tables> {
        Ok(Tables {
            leads: rows_before(&self.leads, CREATED_AT, at)?,
            interactions: rows_before(&self.interactions, OCCURRED_AT, at)?,
            outcomes: rows_before(&self.outcomes, CLOSED_AT, at)?,
            ..self.clone()
        })
    }

    /// Number of won outcomes.
    pub(crate) fn won_count(&self) -> Result<usize> {
        let outcome = self.outcomes.column(OUTCOME)?.str()?;
        Ok(outcome.iter().flatten().filter(|o| *o == WON).count())
    }
}

/// "row 7: 'L9'; row 9: 'L12'" for a set of examples.
pub(crate) fn examples(unknown: &UnknownLeads) -> String {
    unknown
        .examples
        .iter()
        .map(|(row, id)| format!("row {row}: '{id}'"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// A numeric column as f64 values, nulls as NaN.
pub(crate) fn floats(frame: &DataFrame, column: &str) -> Result<Vec<f64>> {
    Ok(frame
        .column(column)?
        .cast(&DataType::Float64)?
        .f64()?
        .iter()
        .map(|v| v.unwrap_or(f64::NAN))
        .collect())
}

/// 1234567 as "1,234,567", for counts people read.
pub(crate) fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
