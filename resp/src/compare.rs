//! Reply comparison for differential tests: some replies (SMEMBERS, HGETALL,
//! SUNION, ...) are sets whose order Redis does not define, so two correct
//! servers may differ in order but not in content.

use bytes::BytesMut;

use crate::{parse_frame, Frame, Limits, RespVersion};

/// The reply `raw` with the elements of its top-level aggregate sorted (the
/// pairs of a map sorted as pairs), re-encoded; any other reply re-encoded
/// unchanged. `None` if `raw` is not one whole reply.
pub fn canonical_unordered(raw: &[u8]) -> Option<Vec<u8>> {
    let (frame, used) = parse_frame(raw, &Limits::default()).ok()??;
    if used != raw.len() {
        return None;
    }
    let encode = |frame: &Frame| {
        let mut out = BytesMut::new();
        frame.encode(&mut out, RespVersion::Resp3);
        out.to_vec()
    };
    let sorted = |mut parts: Vec<Vec<u8>>, header: String| {
        parts.sort();
        let mut out = header.into_bytes();
        parts.iter().for_each(|p| out.extend_from_slice(p));
        out
    };
    Some(match &frame {
        Frame::Array(items) => sorted(items.iter().map(encode).collect(), format!("*{}\r\n", items.len())),
        Frame::Set(items) => sorted(items.iter().map(encode).collect(), format!("~{}\r\n", items.len())),
        Frame::Map(pairs) => sorted(
            pairs.iter().map(|(k, v)| [encode(k), encode(v)].concat()).collect(),
            format!("%{}\r\n", pairs.len()),
        ),
        other => encode(other),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_of_elements_and_pairs_does_not_matter_but_content_does() {
        let a = canonical_unordered(b"*2\r\n$1\r\na\r\n$1\r\nb\r\n").unwrap();
        let b = canonical_unordered(b"*2\r\n$1\r\nb\r\n$1\r\na\r\n").unwrap();
        assert_eq!(a, b);
        let c = canonical_unordered(b"*2\r\n$1\r\nb\r\n$1\r\nb\r\n").unwrap();
        assert_ne!(a, c);
        let m1 = canonical_unordered(b"%2\r\n$1\r\nk\r\n:1\r\n$1\r\nj\r\n:2\r\n").unwrap();
        let m2 = canonical_unordered(b"%2\r\n$1\r\nj\r\n:2\r\n$1\r\nk\r\n:1\r\n").unwrap();
        let m3 = canonical_unordered(b"%2\r\n$1\r\nj\r\n:1\r\n$1\r\nk\r\n:2\r\n").unwrap();
        assert_eq!(m1, m2);
        assert_ne!(m1, m3);
        assert_eq!(canonical_unordered(b"*-1\r\n"), canonical_unordered(b"*-1\r\n"));
        assert_eq!(canonical_unordered(b"$1\r\na"), None);
    }
}
