//! The data fingerprint an artifact carries: CRC-32 of the leads, interactions and
//! outcomes as leadscore read them (typed, then written as CSV in file order, each with
//! its header, streamed through the hash). The same exports give the same fingerprint,
//! and any changed cell, added row or reordering gives another, whether the tables were
//! held whole or the interactions streamed through a part at a time.

use polars::prelude::*;

use super::timestamp::CSV_TIMESTAMP_FORMAT;
use crate::error::Result;

/// A fingerprint being taken: tables (or consecutive parts of one) in order.
pub struct Fingerprint {
    sink: HashingSink,
}

impl Default for Fingerprint {
    fn default() -> Self {
        Fingerprint {
            sink: HashingSink(crc32fast::Hasher::new()),
        }
    }
}

impl Fingerprint {
    /// Hashes a whole table.
    pub fn add(&mut self, table: &DataFrame) -> Result<()> {
        self.add_part(table, true)
    }

    /// Hashes the next part of a table: its header only with the first part, so that
    /// the parts hash as the table would.
    pub fn add_part(&mut self, part: &DataFrame, first: bool) -> Result<()> {
        CsvWriter::new(&mut self.sink)
            .include_header(first)
            .with_datetime_format(Some(CSV_TIMESTAMP_FORMAT.into()))
            .finish(&mut part.clone())?;
        Ok(())
    }

    /// "crc32:1a2b3c4d".
    pub fn finish(self) -> String {
        format!("crc32:{:08x}", self.sink.0.finalize())
    }
}

/// A writer that only hashes what it is given.
struct HashingSink(crc32fast::Hasher);

impl std::io::Write for HashingSink {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.update(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_in_parts_hashes_as_the_whole_and_any_change_shows() {
        let table = df!(
            "lead_id" => ["a", "b", "c", "d", "e"],
            "n" => [1.5, 2.0, -3.25, 4.0, 5.0],
        )
        .unwrap();
        let whole = {
            let mut fingerprint = Fingerprint::default();
            fingerprint.add(&table).unwrap();
            fingerprint.finish()
        };
        let in_parts = {
            let mut fingerprint = Fingerprint::default();
            for (offset, first) in [(0, true), (2, false), (4, false)] {
                fingerprint
                    .add_part(&table.slice(offset, 2), first)
                    .unwrap();
            }
            fingerprint.finish()
        };
        assert_eq!(whole, in_parts);
        let changed = {
            let mut fingerprint = Fingerprint::default();
            fingerprint.add(&table.slice(0, 4)).unwrap();
            fingerprint.finish()
        };
        assert_ne!(whole, changed);
    }
}
