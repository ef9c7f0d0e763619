//! The data fingerprint an artifact carries: CRC-32 of the leads, interactions and
//! outcomes as leadscore read them (typed). Each column's values are hashed in row order
//! (text with its length, numbers and times as their bits, a flag for missing), so the
//! same exports give the same fingerprint, any changed cell, added row or reordering
//! gives another, and a table hashes the same whether it was held whole or streamed
//! through a part at a time. Columns are hashed apart, so a part is hashed column by
//! column at memory speed (formatting the tables as CSV to hash them took most of the
//! time of reading a large history).

use polars::prelude::*;
use rayon::prelude::*;

use crate::error::Result;

/// A fingerprint being taken: tables in order, each whole or in consecutive parts.
#[derive(Default)]
pub(crate) struct Fingerprint {
    whole: crc32fast::Hasher,
    /// The table being hashed: its columns' names and types, hashes and rows so far.
    table: Option<TableHash>,
}

struct TableHash {
    columns: Vec<(String, String, crc32fast::Hasher)>,
    rows: u64,
}

impl Fingerprint {
    /// Hashes a whole table.
    pub(crate) fn add(&mut self, table: &DataFrame) -> Result<()> {
        self.add_part(table, true)
    }

    /// Hashes the next part of a table; `first` starts a new table (the one before is
    /// then complete).
    pub(crate) fn add_part(&mut self, part: &DataFrame, first: bool) -> Result<()> {
        if first {
            self.close_table();
        }
        let table = self.table.get_or_insert_with(|| TableHash {
            columns: part
                .columns()
                .iter()
                .map(|c| {
                    let kind = c.dtype().to_string();
                    (c.name().to_string(), kind, crc32fast::Hasher::new())
                })
                .collect(),
            rows: 0,
        });
        // Columns are hashed apart, so on all cores.
        part.columns()
            .par_iter()
            .zip(table.columns.par_iter_mut())
            .try_for_each(|(column, (_, _, hasher))| hash_column(column, hasher))?;
        table.rows += part.height() as u64;
        Ok(())
    }

    /// "crc32:1a2b3c4d".
    pub(crate) fn finish(mut self) -> String {
        self.close_table();
        format!("crc32:{:08x}", self.whole.finalize())
    }

    fn close_table(&mut self) {
        let Some(table) = self.table.take() else {
            return;
        };
        self.whole.update(&table.rows.to_le_bytes());
        for (name, kind, hasher) in table.columns {
            for text in [name, kind] {
                self.whole.update(&(text.len() as u64).to_le_bytes());
                self.whole.update(text.as_bytes());
            }
            self.whole.update(&hasher.finalize().to_le_bytes());
        }
    }
}

/// A flag byte before every value: present or missing.
const PRESENT: u8 = 1;
const MISSING: u8 = 0;

/// Bytes gathered before they are handed to the hash.
const BLOCK: usize = 1 << 16;

/// Hashes the column's values in row order, each in canonical bytes.
fn hash_column(column: &Column, hasher: &mut crc32fast::Hasher) -> Result<()> {
    let series = column.as_materialized_series();
    let plain = matches!(series.dtype(), DataType::String | DataType::Boolean)
        || series.dtype().is_primitive_numeric()
        || series.dtype().is_temporal();
    if !plain {
        // Anything else (a category, say) as the text polars would show.
        let text = series.cast(&DataType::String)?;
        return hash_column(&text.into_column(), hasher);
    }
    let physical = series.to_physical_repr();
    let mut bytes = Vec::with_capacity(BLOCK + 64);
    let mut flush = |bytes: &mut Vec<u8>, force: bool| {
        if force || bytes.len() >= BLOCK {
            hasher.update(bytes);
            bytes.clear();
        }
    };
    match physical.dtype() {
        DataType::String => {
            for value in physical.str()?.iter() {
                match value {
                    Some(text) => {
                        bytes.push(PRESENT);
                        bytes.extend_from_slice(&(text.len() as u64).to_le_bytes());
                        bytes.extend_from_slice(text.as_bytes());
                    }
                    None => bytes.push(MISSING),
                }
                flush(&mut bytes, false);
            }
        }
        DataType::Boolean => {
            for value in physical.bool()?.iter() {
                bytes.extend_from_slice(&match value {
                    Some(v) => [PRESENT, v as u8],
                    None => [MISSING, 0],
                });
                flush(&mut bytes, false);
            }
        }
        dtype => {
            // Every number as f64 bits or as i64 (times are i64 already).
            let float = dtype.is_float();
            let wide = physical.cast(if float {
                &DataType::Float64
            } else {
                &DataType::Int64
            })?;
            let mut put = |value: Option<[u8; 8]>| {
                match value {
                    Some(v) => {
                        bytes.push(PRESENT);
                        bytes.extend_from_slice(&v);
                    }
                    None => bytes.extend_from_slice(&[MISSING; 9]),
                }
                flush(&mut bytes, false);
            };
            if float {
                for value in wide.f64()?.iter() {
                    put(value.map(|v| v.to_bits().to_le_bytes()));
                }
            } else {
                for value in wide.i64()?.iter() {
                    put(value.map(i64::to_le_bytes));
                }
            }
        }
    }
    flush(&mut bytes, true);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fingerprint(parts: &[(&DataFrame, bool)]) -> String {
        let mut fingerprint = Fingerprint::default();
        for (part, first) in parts {
            fingerprint.add_part(part, *first).unwrap();
        }
        fingerprint.finish()
    }

    #[test]
    fn a_table_in_parts_hashes_as_the_whole_and_any_change_shows() {
        let table = df!(
            "lead_id" => [Some("a"), Some("b"), None, Some("d"), Some("e")],
            "n" => [Some(1.5), Some(2.0), Some(-3.25), None, Some(5.0)],
            "k" => [1i64, 2, 3, 4, 5],
            "yes" => [true, false, true, true, false],
        )
        .unwrap();
        let other = df!("x" => ["z"]).unwrap();
        let whole = fingerprint(&[(&table, true), (&other, true)]);
        let parts: Vec<DataFrame> = [0, 2, 4].iter().map(|&o| table.slice(o, 2)).collect();
        let in_parts = fingerprint(&[
            (&parts[0], true),
            (&parts[1], false),
            (&parts[2], false),
            (&other, true),
        ]);
        assert_eq!(whole, in_parts);
        // A row fewer, a changed cell, a moved value, another column name or type, or
        // a row moved from one table to the next: each changes the fingerprint.
        let mut changed_cell = table.clone();
        changed_cell
            .replace("k", Column::new("k".into(), [1i64, 2, 3, 4, 6]))
            .unwrap();
        let mut renamed = table.clone();
        renamed.rename("k", "j".into()).unwrap();
        let mut retyped = table.clone();
        retyped
            .replace("k", Column::new("k".into(), [1.0, 2.0, 3.0, 4.0, 5.0]))
            .unwrap();
        let shifted_text = df!(
            "lead_id" => [Some("ab"), Some(""), None, Some("d"), Some("e")],
            "n" => [Some(1.5), Some(2.0), Some(-3.25), None, Some(5.0)],
            "k" => [1i64, 2, 3, 4, 5],
            "yes" => [true, false, true, true, false],
        )
        .unwrap();
        let mut seen = std::collections::BTreeSet::from([whole.clone()]);
        for variant in [
            fingerprint(&[(&table.slice(0, 4), true), (&other, true)]),
            fingerprint(&[(&changed_cell, true), (&other, true)]),
            fingerprint(&[(&renamed, true), (&other, true)]),
            fingerprint(&[(&retyped, true), (&other, true)]),
            fingerprint(&[(&shifted_text, true), (&other, true)]),
            fingerprint(&[(&table, true), (&other, false)]),
        ] {
            assert!(seen.insert(variant.clone()), "{variant} repeats");
        }
    }
}
