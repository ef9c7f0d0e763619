//! Reading the training rows a warehouse built with the exported training query
//! (`leadscore export-sql --training`), for `train --features`: the rows of every part
//! (`train` snapshots, `holdout` open leads, the `base` at the data's end), their keys
//! and features, checked cell by cell and put in the order `train` builds them in,
//! whatever order the engine wrote them in.
//!
//! CSV (every engine's text, PostgreSQL's `t`/`f` included) and Parquet read alike.
//! Every problem in the file is reported at once, by row and column; a snapshot at or
//! after its deal's close is refused, because a feature would then see what happened
//! when the deal closed.

use std::path::Path;

use ndarray::{Array2, ShapeBuilder};
use polars::prelude::*;

use super::source::{problem, read_frame};
use super::tables::spreadsheet_row;
use crate::error::{Error, Problems, Result};

/// Which part of the training rows a row belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum RowPart {
    /// A closed deal at one of its snapshot ages.
    Train,
    /// A lead open at one of the holdout's evaluation dates.
    Holdout,
    /// A lead of the base at the data's end.
    Base,
}

impl RowPart {
    fn parse(text: &str) -> Option<Self> {
        match text {
            "train" => Some(RowPart::Train),
            "holdout" => Some(RowPart::Holdout),
            "base" => Some(RowPart::Base),
            _ => None,
        }
    }
}

/// The training rows, checked and in `train`'s order: the `train` rows by lead and
/// time, the `holdout` rows by time and lead, the `base` rows by lead.
#[derive(Debug)]
pub(crate) struct TrainingRows {
    /// Each row's part.
    pub(crate) part: Vec<RowPart>,
    /// Each row's lead.
    pub(crate) lead_id: Vec<String>,
    /// Each row's time (µs): what its features saw is strictly before it.
    pub(crate) as_of: Vec<i64>,
    /// Whether the row's deal was won (`None` for base rows).
    pub(crate) won: Vec<Option<bool>>,
    /// When the row's deal closed (µs; `None` for base rows).
    pub(crate) closed: Vec<Option<i64>>,
    /// The holdout's split (µs), the same on every row.
    pub(crate) split: i64,
    /// The holdout's date spacing (µs), the same on every row.
    pub(crate) every: i64,
    /// The features of the `train` and `holdout` rows (the first rows), one column per
    /// name asked for, in that order, narrowed to f32 as training reads them (see
    /// `MatrixWriter::rows_f32`); NaN where missing.
    pub(crate) features: Array2<f32>,
    /// The features of the `base` rows (the last rows): the shipped model's only, in
    /// f64 as the drift reference takes them.
    pub(crate) base_features: Array2<f64>,
    /// CRC-32 of everything above, in this order: the same rows give the same value
    /// whichever order the engine wrote them in.
    pub(crate) fingerprint: String,
}

/// The key columns, as `crate::sql::training::KEY_COLUMNS` names them.
const PART: &str = "part";
const LEAD: &str = "lead_id";
const AS_OF: &str = "as_of_us";
const WON: &str = "won";
const CLOSED: &str = "closed_us";
const SPLIT: &str = "holdout_split_us";
const EVERY: &str = "holdout_every_us";

/// Reads the training rows at `path`, whose columns must be exactly `columns` (the key
/// columns, then the features): a file built for another model is refused by name. The
/// `base` rows keep only the first `base_features` features (the shipped model's).
pub(crate) fn read_training_rows(
    path: &Path,
    columns: &[String],
    base_features: usize,
) -> Result<TrainingRows> {
    let file = path.display().to_string();
    let mut source = ColumnSource::open(path)?;
    check_columns(&file, &source.names()?, columns)?;
    let keys: Vec<String> = KEYS.iter().map(|k| k.to_string()).collect();
    let frame = source.take(&keys)?;
    let mut problems = Problems::default();
    let n = frame.height();
    let part = texts(&file, frame.column(PART)?, &mut problems)?;
    let lead = texts(&file, frame.column(LEAD)?, &mut problems)?;
    let as_of = integers(&file, frame.column(AS_OF)?, &mut problems)?;
    let won = booleans(&file, frame.column(WON)?, &mut problems)?;
    let closed = integers(&file, frame.column(CLOSED)?, &mut problems)?;
    let split = integers(&file, frame.column(SPLIT)?, &mut problems)?;
    let every = integers(&file, frame.column(EVERY)?, &mut problems)?;
    let mut at = |index: usize, column: &str, reason: String| {
        problems.push(problem(
            &file,
            Some(spreadsheet_row(index)),
            Some(column.into()),
            reason,
        ))
    };
    let mut parts = Vec::with_capacity(n);
    for i in 0..n {
        let row_part = match part[i].as_deref().map(RowPart::parse) {
            Some(Some(p)) => p,
            _ => {
                at(
                    i,
                    PART,
                    format!(
                        "{:?} is not a part: expected `train`, `holdout` or `base`",
                        part[i].as_deref().unwrap_or("")
                    ),
                );
                RowPart::Base
            }
        };
        parts.push(row_part);
        if lead[i].as_deref().is_none_or(str::is_empty) {
            at(i, LEAD, "empty: every row needs its lead".into());
        }
        if as_of[i].is_none() {
            at(i, AS_OF, "empty: every row needs its time".into());
        }
        if row_part != RowPart::Base {
            if won[i].is_none() {
                at(
                    i,
                    WON,
                    "empty: a closed deal's row needs its outcome".into(),
                );
            }
            match (as_of[i], closed[i]) {
                (_, None) => at(i, CLOSED, "empty: a closed deal's row needs its close time".into()),
                (Some(time), Some(close)) if time >= close => at(
                    i,
                    AS_OF,
                    format!("{time} is not before the deal's close ({close}): a feature would see the close"),
                ),
                _ => {}
            }
        }
    }
    let split = constant(&file, SPLIT, &split, &mut problems);
    let every = constant(&file, EVERY, &every, &mut problems);
    let keys_valid = problems.is_empty();
    let lead: Vec<String> = lead.into_iter().map(Option::unwrap_or_default).collect();
    let as_of: Vec<i64> = as_of.into_iter().map(Option::unwrap_or_default).collect();
    // With every key readable the rows are put in order as the features are read;
    // otherwise the features are still read, for their problems.
    let order: Vec<usize> = if keys_valid {
        canonical_order(&parts, &lead, &as_of)
    } else {
        (0..n).collect()
    };
    drop(frame);
    // Rows in order: `train` and `holdout` first, `base` last. The first are read as
    // training reads them (f32); the base rows keep the shipped model's features in
    // f64, as the drift reference takes them.
    let fitted = order
        .iter()
        .take_while(|&&i| parts[i] != RowPart::Base)
        .count();
    let feature_names = &columns[KEYS.len()..];
    let base_features = base_features.min(feature_names.len());
    let mut features = Array2::<f32>::zeros((fitted, feature_names.len()).f());
    let mut base = Array2::<f64>::zeros((n - fitted, base_features).f());
    // A few columns at a time, each let go once placed: the file's numbers are never
    // all held at once.
    for (block, names) in feature_names.chunks(FEATURES_AT_ONCE).enumerate() {
        for (k, column) in source.take(names)?.into_columns().into_iter().enumerate() {
            let j = block * FEATURES_AT_ONCE + k;
            let values = numbers(&file, &column, &mut problems)?;
            drop(column);
            for (out, &i) in features.column_mut(j).iter_mut().zip(&order[..fitted]) {
                *out = values[i] as f32;
            }
            if j < base_features {
                for (out, &i) in base.column_mut(j).iter_mut().zip(&order[fitted..]) {
                    *out = values[i];
                }
            }
        }
    }
    problems.into_result()?;
    check_unique(&file, &order, &parts, &lead, &as_of)?;
    let rows = TrainingRows {
        part: order.iter().map(|&i| parts[i]).collect(),
        lead_id: order.iter().map(|&i| lead[i].clone()).collect(),
        as_of: order.iter().map(|&i| as_of[i]).collect(),
        won: order.iter().map(|&i| won[i]).collect(),
        closed: order.iter().map(|&i| closed[i]).collect(),
        split,
        every,
        features,
        base_features: base,
        fingerprint: String::new(),
    };
    Ok(TrainingRows {
        fingerprint: fingerprint(&rows),
        ..rows
    })
}

/// The key columns in order.
const KEYS: [&str; 7] = [PART, LEAD, AS_OF, WON, CLOSED, SPLIT, EVERY];

/// Feature columns read from a Parquet file at a time.
const FEATURES_AT_ONCE: usize = 16;

/// Where the columns come from: a Parquet file read a few columns at a time, or a CSV
/// file read whole (as text) and handed out column by column.
enum ColumnSource {
    Parquet(std::path::PathBuf),
    Frame(DataFrame),
}

impl ColumnSource {
    fn open(path: &Path) -> Result<Self> {
        if super::source::FileFormat::of(path)? == super::source::FileFormat::Parquet {
            // Read the footer now, so a file that is no Parquet is refused as read_frame
            // refuses it.
            let source = ColumnSource::Parquet(path.to_path_buf());
            if source.names().is_ok() {
                return Ok(source);
            }
        }
        let frame = read_frame(path)?.map_err(|p| {
            let mut problems = Problems::default();
            problems.push(p);
            Error::InvalidInput(problems)
        })?;
        Ok(ColumnSource::Frame(frame))
    }

    fn names(&self) -> Result<Vec<String>> {
        Ok(match self {
            ColumnSource::Parquet(path) => {
                ParquetReader::new(std::fs::File::open(path).map_err(|e| Error::InputFile {
                    path: path.clone(),
                    reason: format!("cannot read: {e}"),
                })?)
                .schema()?
                .iter_names()
                .map(|n| n.to_string())
                .collect()
            }
            ColumnSource::Frame(frame) => frame
                .get_column_names()
                .iter()
                .map(|c| c.to_string())
                .collect(),
        })
    }

    /// The columns `names`, in that order, let go by the source.
    fn take(&mut self, names: &[String]) -> Result<DataFrame> {
        match self {
            ColumnSource::Parquet(path) => {
                let file = std::fs::File::open(&*path).map_err(|e| Error::InputFile {
                    path: path.clone(),
                    reason: format!("cannot read: {e}"),
                })?;
                Ok(ParquetReader::new(file)
                    .with_columns(Some(names.to_vec()))
                    .finish()?
                    .select(names.iter().map(String::as_str))?)
            }
            ColumnSource::Frame(frame) => {
                let columns = names
                    .iter()
                    .map(|name| frame.drop_in_place(name))
                    .collect::<PolarsResult<Vec<Column>>>()?;
                Ok(DataFrame::new_infer_height(columns)?)
            }
        }
    }
}

/// Refuses a file whose columns are not exactly `columns`, naming what is missing and
/// what is foreign.
fn check_columns(file: &str, present: &[String], columns: &[String]) -> Result<()> {
    let present: Vec<String> = present.to_vec();
    let missing: Vec<&String> = columns.iter().filter(|c| !present.contains(c)).collect();
    let foreign: Vec<&String> = present.iter().filter(|c| !columns.contains(c)).collect();
    if missing.is_empty() && foreign.is_empty() {
        return Ok(());
    }
    let list = |names: &[&String]| {
        let shown: Vec<String> = names.iter().take(5).map(|n| format!("`{n}`")).collect();
        let more = names.len().saturating_sub(5);
        if more > 0 {
            format!("{} and {more} more", shown.join(", "))
        } else {
            shown.join(", ")
        }
    };
    let mut reasons = Vec::new();
    if !missing.is_empty() {
        reasons.push(format!("lacks {}", list(&missing)));
    }
    if !foreign.is_empty() {
        reasons.push(format!("has {} that the model does not", list(&foreign)));
    }
    Err(Error::InputFile {
        path: file.into(),
        reason: format!(
            "not the training rows of this model: the file {} (build it with `leadscore export-sql --training` from the same model)",
            reasons.join(" and ")
        ),
    })
}

/// The column's values as text (`None` where empty).
fn texts(file: &str, column: &Column, problems: &mut Problems) -> Result<Vec<Option<String>>> {
    if column.dtype() != &DataType::String {
        problems.push(problem(
            file,
            None,
            Some(column.name().to_string()),
            format!("expected text, found {}", column.dtype()),
        ));
        return Ok(vec![None; column.len()]);
    }
    Ok(column
        .str()?
        .iter()
        .map(|v| v.map(str::to_string))
        .collect())
}

/// The column's values as whole numbers (`None` where empty).
fn integers(file: &str, column: &Column, problems: &mut Problems) -> Result<Vec<Option<i64>>> {
    if column.dtype().is_integer() {
        return Ok(column.cast(&DataType::Int64)?.i64()?.iter().collect());
    }
    parsed(file, column, problems, "a whole number", |text| {
        text.parse::<i64>().ok()
    })
}

/// The column's values as true or false (`None` where empty): Boolean, or the text
/// `true`/`false`, `t`/`f` (PostgreSQL's), `1`/`0`.
fn booleans(file: &str, column: &Column, problems: &mut Problems) -> Result<Vec<Option<bool>>> {
    if column.dtype() == &DataType::Boolean {
        return Ok(column.bool()?.iter().collect());
    }
    if column.dtype().is_integer() {
        let column = column.cast(&DataType::Int64)?;
        return Ok(column.i64()?.iter().map(|v| v.map(|v| v != 0)).collect());
    }
    parsed(file, column, problems, "true or false", |text| {
        match text.to_ascii_lowercase().as_str() {
            "true" | "t" | "1" => Some(true),
            "false" | "f" | "0" => Some(false),
            _ => None,
        }
    })
}

/// A text column's values read by `parse`, a problem for each that does not read as
/// `what`; any other type is one problem for the column.
fn parsed<T: Clone>(
    file: &str,
    column: &Column,
    problems: &mut Problems,
    what: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Vec<Option<T>>> {
    let name = column.name().as_str();
    if column.dtype() != &DataType::String {
        problems.push(problem(
            file,
            None,
            Some(name.into()),
            format!("expected {what}, found {}", column.dtype()),
        ));
        return Ok(vec![None; column.len()]);
    }
    Ok(column
        .str()?
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let text = text.map(str::trim).filter(|t| !t.is_empty())?;
            let value = parse(text);
            if value.is_none() {
                problems.push(problem(
                    file,
                    Some(spreadsheet_row(i)),
                    Some(name.into()),
                    format!("{text:?} is not {what}"),
                ));
            }
            value
        })
        .collect())
}

/// A feature column's values: numbers as doubles, empty (NULL) and NaN as missing
/// (NaN); an infinity or a text that is no number is a problem.
fn numbers(file: &str, column: &Column, problems: &mut Problems) -> Result<Vec<f64>> {
    let values: Vec<Option<f64>> = if column.dtype().is_primitive_numeric() {
        column.cast(&DataType::Float64)?.f64()?.iter().collect()
    } else {
        parsed(file, column, problems, "a number", |text| {
            text.parse::<f64>().ok()
        })?
    };
    let mut out = Vec::with_capacity(values.len());
    for (i, v) in values.into_iter().enumerate() {
        let v = v.unwrap_or(f64::NAN);
        if v.is_infinite() {
            problems.push(problem(
                file,
                Some(spreadsheet_row(i)),
                Some(column.name().to_string()),
                format!("{v} is not a feature value: features are finite or missing"),
            ));
        }
        out.push(v);
    }
    Ok(out)
}

/// The one value a column holds on every row, or a problem.
fn constant(file: &str, name: &str, values: &[Option<i64>], problems: &mut Problems) -> i64 {
    let first = values.first().copied().flatten();
    if let Some(i) = values.iter().position(|v| *v != first || v.is_none()) {
        problems.push(problem(
            file,
            Some(spreadsheet_row(i)),
            Some(name.into()),
            "must hold the same time on every row (the query computes it once)".into(),
        ));
    }
    first.unwrap_or_default()
}

/// Row indices in `train`'s order: parts in turn; `train` rows by lead then time,
/// `holdout` rows by time then lead, `base` rows by lead. Leads compare as bytes,
/// as `train` sorts them.
fn canonical_order(parts: &[RowPart], lead: &[String], as_of: &[i64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..parts.len()).collect();
    order.sort_unstable_by(|&a, &b| {
        let by_part = parts[a].cmp(&parts[b]);
        let by_lead = || lead[a].as_bytes().cmp(lead[b].as_bytes());
        let by_time = || as_of[a].cmp(&as_of[b]);
        by_part.then_with(|| match parts[a] {
            RowPart::Holdout => by_time().then_with(by_lead),
            RowPart::Train | RowPart::Base => by_lead().then_with(by_time),
        })
    });
    order
}

/// Refuses a (part, lead, time) that occurs twice: a row counted twice would weigh
/// twice in the fit.
fn check_unique(
    file: &str,
    order: &[usize],
    parts: &[RowPart],
    lead: &[String],
    as_of: &[i64],
) -> Result<()> {
    let same =
        |a: usize, b: usize| parts[a] == parts[b] && lead[a] == lead[b] && as_of[a] == as_of[b];
    let mut problems = Problems::default();
    for pair in order.windows(2) {
        if same(pair[0], pair[1]) {
            let later = pair[0].max(pair[1]);
            problems.push(problem(
                file,
                Some(spreadsheet_row(later)),
                Some(LEAD.into()),
                format!(
                    "lead {:?} at {} is already on row {}",
                    lead[later],
                    as_of[later],
                    spreadsheet_row(pair[0].min(pair[1]))
                ),
            ));
        }
    }
    problems.into_result()
}

/// "crc32:…" over the rows in order.
fn fingerprint(rows: &TrainingRows) -> String {
    let mut hasher = crc32fast::Hasher::new();
    for i in 0..rows.part.len() {
        hasher.update(&[rows.part[i] as u8]);
        hasher.update(&(rows.lead_id[i].len() as u64).to_le_bytes());
        hasher.update(rows.lead_id[i].as_bytes());
        hasher.update(&rows.as_of[i].to_le_bytes());
        hasher.update(&[rows.won[i].map_or(2, u8::from)]);
        hasher.update(&rows.closed[i].unwrap_or(i64::MIN).to_le_bytes());
    }
    hasher.update(&rows.split.to_le_bytes());
    hasher.update(&rows.every.to_le_bytes());
    for column in rows.features.columns() {
        for v in column {
            hasher.update(&v.to_bits().to_le_bytes());
        }
    }
    for column in rows.base_features.columns() {
        for v in column {
            hasher.update(&v.to_bits().to_le_bytes());
        }
    }
    format!("crc32:{:08x}", hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str =
        "part,lead_id,as_of_us,won,closed_us,holdout_split_us,holdout_every_us,x,y";

    fn columns() -> Vec<String> {
        HEADER.split(',').map(str::to_string).collect()
    }

    /// Reads `lines` under [`HEADER`] as a CSV file.
    fn read(lines: &[&str]) -> Result<TrainingRows> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rows.csv");
        std::fs::write(&path, format!("{HEADER}\n{}\n", lines.join("\n"))).unwrap();
        read_training_rows(&path, &columns(), 2)
    }

    #[test]
    fn rows_come_back_in_trains_order_whatever_order_they_were_written_in() {
        let lines = [
            "base,b,900,,,500,10,1,",
            "holdout,b,510,f,700,500,10,2.5,NaN",
            "train,b,100,t,700,500,10,3,4",
            "holdout,a,510,true,600,500,10,5,6",
            "train,a,200,1,600,500,10,7,8",
            "train,a,100,TRUE,600,500,10,9,10",
            "holdout,a,500,true,600,500,10,11,12",
            "base,a,900,,,500,10,13,14",
        ];
        let rows = read(&lines).unwrap();
        let keys: Vec<(RowPart, &str, i64)> = (0..8)
            .map(|i| (rows.part[i], rows.lead_id[i].as_str(), rows.as_of[i]))
            .collect();
        use RowPart::*;
        assert_eq!(
            keys,
            [
                (Train, "a", 100),
                (Train, "a", 200),
                (Train, "b", 100),
                (Holdout, "a", 500),
                (Holdout, "a", 510),
                (Holdout, "b", 510),
                (Base, "a", 900),
                (Base, "b", 900),
            ]
        );
        assert_eq!(rows.won[2], Some(true));
        assert_eq!(rows.won[5], Some(false));
        assert_eq!(rows.won[7], None);
        assert_eq!((rows.split, rows.every), (500, 10));
        assert_eq!(rows.features.column(0).to_vec()[..3], [9.0, 7.0, 3.0]);
        // Empty and NaN are both missing.
        assert!(rows.features[[5, 1]].is_nan() && rows.base_features[[1, 1]].is_nan());
        assert_eq!(rows.base_features.column(0).to_vec(), [13.0, 1.0]);
        let mut reversed = lines;
        reversed.reverse();
        assert_eq!(read(&reversed).unwrap().fingerprint, rows.fingerprint);
        let mut changed = lines;
        changed[0] = "base,b,900,,,500,10,1.5,";
        assert_ne!(read(&changed).unwrap().fingerprint, rows.fingerprint);
    }

    #[test]
    fn every_bad_cell_is_named_by_row_and_column() {
        let error = read(&[
            "train,a,100,t,600,500,10,1,2",
            "nonsense,a,110,t,600,500,10,1,2",
            "train,,120,t,600,500,10,1,2",
            "train,a,130,maybe,600,500,10,1,2",
            "train,a,600,t,600,500,10,1,2",
            "holdout,a,510,t,,500,10,1,2",
            "train,a,140,t,600,500,10,abc,2",
            "train,a,150,t,600,500,10,1,inf",
            "train,a,160,t,600,501,10,1,2",
            "base,a,,,,500,10,1,2",
        ])
        .unwrap_err();
        assert_eq!(error.exit_code(), 2);
        let text = error.to_string();
        for expected in [
            "row 3, column `part`: \"nonsense\" is not a part",
            "row 4, column `lead_id`: empty",
            "row 5, column `won`: \"maybe\" is not true or false",
            "row 6, column `as_of_us`: 600 is not before the deal's close (600)",
            "row 7, column `closed_us`: empty",
            "row 8, column `x`: \"abc\" is not a number",
            "row 9, column `y`: inf is not a feature value",
            "row 10, column `holdout_split_us`: must hold the same time on every row",
            "row 11, column `as_of_us`: empty",
        ] {
            assert!(
                text.contains(expected),
                "{expected:?} missing from:\n{text}"
            );
        }
    }

    #[test]
    fn a_row_given_twice_is_refused() {
        let error = read(&[
            "train,a,100,t,600,500,10,1,2",
            "train,b,100,t,600,500,10,1,2",
            "train,a,100,t,600,500,10,1,2",
        ])
        .unwrap_err();
        assert!(error
            .to_string()
            .contains("row 4, column `lead_id`: lead \"a\" at 100 is already on row 2"));
        // The same lead and time in two parts is two rows.
        assert!(read(&[
            "train,a,100,t,600,500,10,1,2",
            "holdout,a,100,t,600,500,10,1,2",
        ])
        .is_ok());
    }

    #[test]
    fn a_file_that_is_no_parquet_is_refused_as_such() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rows.parquet");
        std::fs::write(&path, HEADER).unwrap();
        let error = read_training_rows(&path, &columns(), 2).unwrap_err();
        assert_eq!(error.exit_code(), 2);
        assert!(
            error.to_string().contains("not a readable Parquet file"),
            "{error}"
        );
    }

    #[test]
    fn a_file_built_for_another_model_is_refused_by_its_columns() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rows.csv");
        std::fs::write(&path, format!("{HEADER},z\ntrain,a,1,t,5,3,1,1,2,3\n")).unwrap();
        let mut expected = columns();
        expected[7] = "w".into();
        let error = read_training_rows(&path, &expected, 2).unwrap_err();
        assert_eq!(error.exit_code(), 2);
        let text = error.to_string();
        assert!(text.contains("rows.csv"), "{text}");
        assert!(text.contains("lacks `w`"), "{text}");
        assert!(
            text.contains("has `x`, `z` that the model does not"),
            "{text}"
        );
    }
}
