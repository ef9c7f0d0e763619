//! The model artifact's envelope: one file that a scheduled job can trust or refuse.
//!
//! Layout (all integers little-endian):
//!
//! | bytes | content |
//! |---|---|
//! | 0..12 | magic `LEADSCORE\0\r\n` (the CR/LF catch text-mode mangling) |
//! | 12..16 | format version (u32) |
//! | 16..24 | payload length (u64) |
//! | 24..28 | CRC-32 (IEEE) of the payload |
//! | 28.. | payload: bincode of the model |
//!
//! A truncated, corrupted, foreign or newer-format file is refused with a message saying
//! which, before any byte of the payload is deserialised. The envelope holds no clock
//! time, so the same model gives the same bytes.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::model::Model;

/// First bytes of every leadscore model file.
pub const MAGIC: &[u8; 12] = b"LEADSCORE\0\r\n";
/// The format this build writes and the newest it reads.
pub(crate) const FORMAT_VERSION: u32 = 4;
const HEADER_LEN: usize = 28;

/// Wraps a serialised model in the envelope.
pub fn encode<T: Serialize>(model: &T) -> Result<Vec<u8>> {
    let payload = bincode::serialize(model).map_err(|e| Error::Artifact {
        reason: format!("cannot serialise the model: {e}"),
    })?;
    let mut bytes = Vec::with_capacity(HEADER_LEN + payload.len());
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    bytes.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&crc32(&payload).to_le_bytes());
    bytes.extend_from_slice(&payload);
    Ok(bytes)
}

/// Checks the envelope and deserialises the model, refusing anything it cannot trust.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    let refuse = |reason: String| Err(Error::Artifact { reason });
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        return refuse("not a leadscore model file (wrong magic bytes)".into());
    }
    if bytes.len() < HEADER_LEN {
        return refuse(format!(
            "truncated: {} bytes, shorter than the header",
            bytes.len()
        ));
    }
    let version = u32::from_le_bytes(array(&bytes[12..16]));
    if version > FORMAT_VERSION {
        return refuse(format!(
            "format version {version} is newer than this leadscore reads ({FORMAT_VERSION}): upgrade leadscore"
        ));
    }
    if version == 0 {
        return refuse("format version 0 does not exist: the file is damaged".into());
    }
    if version < FORMAT_VERSION {
        return refuse(format!(
            "format version {version} is older than this leadscore reads ({FORMAT_VERSION}): retrain the model with this leadscore"
        ));
    }
    let declared = u64::from_le_bytes(array(&bytes[16..24]));
    let payload = &bytes[HEADER_LEN..];
    if payload.len() as u64 != declared {
        let how = if (payload.len() as u64) < declared {
            "truncated"
        } else {
            "has trailing bytes"
        };
        return refuse(format!(
            "{how}: payload is {} bytes, header says {declared}",
            payload.len()
        ));
    }
    let expected = u32::from_le_bytes(array(&bytes[24..28]));
    if crc32(payload) != expected {
        return refuse("corrupted: checksum mismatch".into());
    }
    bincode::deserialize(payload).map_err(|e| Error::Artifact {
        reason: format!("payload does not decode as a model: {e}"),
    })
}

/// Copies a slice whose length the caller has checked into an array.
fn array<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(bytes);
    out
}

/// CRC-32 (IEEE 802.3, as zlib and PNG use).
pub(crate) fn crc32(bytes: &[u8]) -> u32 {
    crc32fast::hash(bytes)
}

/// Reads and checks an artifact; damaged or foreign files are refused (exit 2).
pub fn read_model(path: &std::path::Path) -> Result<Model> {
    let bytes = std::fs::read(path).map_err(|e| Error::InputFile {
        path: path.to_path_buf(),
        reason: format!("cannot read the model: {e}"),
    })?;
    decode::<Model>(&bytes)
        .and_then(|model| model.check().map(|()| model))
        .map_err(|e| match e {
            Error::Artifact { reason } => Error::Artifact {
                reason: format!("{}: {reason}", path.display()),
            },
            other => other,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Toy {
        name: String,
        weights: Vec<f64>,
    }

    fn toy() -> Toy {
        Toy {
            name: "m".into(),
            weights: vec![0.5, -1.25, 3.0],
        }
    }

    fn refused(bytes: &[u8]) -> String {
        match decode::<Toy>(bytes) {
            Err(Error::Artifact { reason }) => reason,
            other => panic!("expected refusal, got {other:?}"),
        }
    }

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn round_trips_and_is_deterministic() {
        let bytes = encode(&toy()).unwrap();
        assert_eq!(bytes, encode(&toy()).unwrap());
        assert_eq!(decode::<Toy>(&bytes).unwrap(), toy());
    }

    #[test]
    fn rejects_foreign_truncated_corrupted_and_newer_files() {
        let bytes = encode(&toy()).unwrap();
        assert!(refused(b"PAR1 not a model").contains("wrong magic"));
        assert!(refused(&[]).contains("wrong magic"));
        assert!(refused(&bytes[..20]).contains("truncated"));
        assert!(refused(&bytes[..bytes.len() - 3]).contains("truncated"));
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(refused(&longer).contains("trailing bytes"));
        let mut flipped = bytes.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 0x40;
        assert!(refused(&flipped).contains("checksum"));
        let mut newer = bytes.clone();
        newer[12..16].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
        assert!(refused(&newer).contains("newer"));
        let mut older = bytes.clone();
        older[12..16].copy_from_slice(&(FORMAT_VERSION - 1).to_le_bytes());
        assert!(refused(&older).contains("older"));
    }
}
