//! Content checksums as Nextcloud's clients exchange them: `OC-Checksum: TYPE:hex` on uploads,
//! and the stored list (`SHA1:… MD5:…`) in `oc:checksums`. SHA-1 is computed for every upload,
//! so clients can compare contents (`rclone check`) even when they sent none.

use super::{store::Staged, FileError};

/// The types the desktop client and rclone send.
const KNOWN_TYPES: [&str; 3] = ["SHA1", "MD5", "ADLER32"];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChecksumError {
    #[error("The OC-Checksum header is not of the form TYPE:hex")]
    Malformed,
    #[error("The computed checksum does not match the one received from the client.")]
    Mismatch,
}

/// The checksum entries to store for a content whose SHA-1 is `sha1_hex`: the computed SHA-1
/// first, then the client's other types as sent. A client SHA-1 that differs from the content
/// means the bytes were damaged on the way.
pub fn to_store(client: Option<&str>, sha1_hex: &str) -> Result<String, ChecksumError> {
    let mut stored = format!("SHA1:{sha1_hex}");
    let Some(client) = client.map(str::trim).filter(|c| !c.is_empty()) else {
        return Ok(stored);
    };
    for entry in client.split_whitespace() {
        let (kind, value) = entry.split_once(':').ok_or(ChecksumError::Malformed)?;
        let kind = kind.to_ascii_uppercase();
        let value = value.to_ascii_lowercase();
        let well_formed =
            !value.is_empty() && value.len() <= 128 && value.bytes().all(|b| b.is_ascii_hexdigit());
        if !well_formed || !KNOWN_TYPES.contains(&kind.as_str()) {
            return Err(ChecksumError::Malformed);
        }
        if kind == "SHA1" {
            if value != sha1_hex {
                return Err(ChecksumError::Mismatch);
            }
        } else if !stored.contains(&format!("{kind}:")) {
            stored.push(' ');
            stored.push_str(&kind);
            stored.push(':');
            stored.push_str(&value);
        }
    }
    Ok(stored)
}

/// [`to_store`] for a staged content, with the SHA-1 computed as it was written (a chunk, staged
/// without one, is an error).
pub fn of_staged(client: Option<&str>, staged: &Staged) -> Result<String, FileError> {
    Ok(to_store(client, &staged.sha1_hex()?)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ABC: &str = "a9993e364706816aba3e25717850c26c9cd0d89d";

    #[test]
    fn sha1_is_always_stored_and_checked() {
        assert_eq!(to_store(None, ABC).unwrap(), format!("SHA1:{ABC}"));
        assert_eq!(
            to_store(Some(&format!("sha1:{}", ABC.to_uppercase())), ABC).unwrap(),
            format!("SHA1:{ABC}")
        );
        assert_eq!(
            to_store(Some("SHA1:0000000000000000000000000000000000000000"), ABC),
            Err(ChecksumError::Mismatch)
        );
    }

    #[test]
    fn other_types_are_kept_as_sent() {
        assert_eq!(
            to_store(Some("MD5:900150983CD24FB0D6963F7D28E17F72"), ABC).unwrap(),
            format!("SHA1:{ABC} MD5:900150983cd24fb0d6963f7d28e17f72")
        );
        assert_eq!(
            to_store(Some("ADLER32:024d0127"), ABC).unwrap(),
            format!("SHA1:{ABC} ADLER32:024d0127")
        );
        for bad in ["SHA1", "MD5:xyz", "CRC32:00ff", ":00"] {
            assert_eq!(
                to_store(Some(bad), ABC),
                Err(ChecksumError::Malformed),
                "{bad}"
            );
        }
    }
}
