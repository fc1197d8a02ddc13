//! The server-side request parser: multibulk and inline requests, Redis's exact errors and
//! "wait for more" points, pipelining, and input arriving in arbitrary pieces.

use bytes::{Bytes, BytesMut};
use resp::{parse_request, parse_request_bytes, split_inline_args, Limits, ProtocolError, RequestDecoder};

type Parsed = Result<Option<(Vec<Bytes>, usize)>, ProtocolError>;

fn parse(input: &[u8]) -> Parsed {
    parse_request(input, &Limits::default())
}

fn args(list: &[&str]) -> Vec<Bytes> {
    list.iter().map(|s| Bytes::copy_from_slice(s.as_bytes())).collect()
}

fn complete(list: &[&str], consumed: usize) -> Parsed {
    Ok(Some((args(list), consumed)))
}

fn split(line: &[u8]) -> Result<Vec<Bytes>, ProtocolError> {
    split_inline_args(line)
}

#[test]
fn a_multibulk_request_parses_into_its_arguments() {
    let input = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nv\r\n\0x\r\n";
    assert_eq!(parse(input), Ok(Some((vec!["SET".into(), "k".into(), Bytes::from_static(b"v\r\n\0x")], input.len()))));
}

#[test]
fn an_empty_bulk_argument_is_an_empty_string() {
    assert_eq!(parse(b"*2\r\n$4\r\nECHO\r\n$0\r\n\r\n"), complete(&["ECHO", ""], 20));
}

#[test]
fn a_zero_or_negative_count_is_an_empty_request() {
    assert_eq!(parse(b"*0\r\n"), complete(&[], 4));
    assert_eq!(parse(b"*-1\r\n"), complete(&[], 5));
    assert_eq!(parse(b"*-100\r\n:junk"), complete(&[], 7));
}

#[test]
fn an_empty_inline_line_is_an_empty_request() {
    assert_eq!(parse(b"\r\n"), complete(&[], 2));
    assert_eq!(parse(b"\n"), complete(&[], 1));
    assert_eq!(parse(b"  \t \r\n"), complete(&[], 6));
}

#[test]
fn the_byte_after_a_header_carriage_return_is_skipped_unchecked_as_in_redis() {
    assert_eq!(parse(b"*1\rX$4\r\nPING\r\n"), complete(&["PING"], 14));
    assert_eq!(parse(b"*1\r\n$4\rXPING\r\n"), complete(&["PING"], 14));
}

#[test]
fn the_two_bytes_after_a_bulk_payload_are_skipped_unchecked_as_in_redis() {
    assert_eq!(parse(b"*1\r\n$4\r\nPINGxy"), complete(&["PING"], 14));
}

#[test]
fn a_bad_multibulk_count_is_invalid_multibulk_length() {
    for input in [&b"*x\r\n"[..], b"*\r\n", b"*+1\r\n", b"*01\r\n", b"*-0\r\n", b"*1 \r\n", b"*2147483648\r\n"] {
        assert_eq!(parse(input), Err(ProtocolError::InvalidMultibulkLength), "{:?}", String::from_utf8_lossy(input));
    }
}

#[test]
fn a_count_above_the_array_limit_is_invalid_multibulk_length() {
    let limits = Limits { array_len_max: 2, ..Limits::default() };
    assert_eq!(parse_request(b"*2\r\n", &limits), Ok(None));
    assert_eq!(parse_request(b"*3\r\n", &limits), Err(ProtocolError::InvalidMultibulkLength));
    assert_eq!(parse(b"*1048577\r\n"), Err(ProtocolError::InvalidMultibulkLength));
}

#[test]
fn a_count_above_int_max_is_invalid_whatever_the_array_limit() {
    let limits = Limits { array_len_max: usize::MAX, ..Limits::default() };
    assert_eq!(parse_request(b"*2147483647\r\n", &limits), Ok(None));
    assert_eq!(parse_request(b"*2147483648\r\n", &limits), Err(ProtocolError::InvalidMultibulkLength));
}

#[test]
fn a_bad_bulk_length_is_invalid_bulk_length() {
    for input in [&b"*1\r\n$x\r\n"[..], b"*1\r\n$\r\n", b"*1\r\n$-1\r\n", b"*1\r\n$+3\r\n", b"*1\r\n$03\r\n"] {
        assert_eq!(parse(input), Err(ProtocolError::InvalidBulkLength), "{:?}", String::from_utf8_lossy(input));
    }
}

#[test]
fn a_bulk_longer_than_the_limit_is_a_protocol_error() {
    assert_eq!(parse(b"*1\r\n$536870912\r\n"), Ok(None));
    assert_eq!(parse(b"*1\r\n$536870913\r\n"), Err(ProtocolError::InvalidBulkLength));
    let limits = Limits { bulk_bytes_max: 3, ..Limits::default() };
    assert_eq!(parse_request(b"*1\r\n$4\r\nPING\r\n", &limits), Err(ProtocolError::InvalidBulkLength));
}

#[test]
fn an_element_that_is_not_a_bulk_string_names_the_byte_found() {
    assert_eq!(parse(b"*1\r\n:1\r\n"), Err(ProtocolError::ExpectedBulk(b':')));
    assert_eq!(parse(b"*1\r\nfoo\r\n"), Err(ProtocolError::ExpectedBulk(b'f')));
    assert_eq!(parse(b"*1\r\n\r\n"), Err(ProtocolError::ExpectedBulk(b'\r')));
    assert_eq!(
        parse(b"*2\r\n$1\r\na\r\n*1\r\n").map_err(|e| e.to_string()),
        Err("Protocol error: expected '$', got '*'".to_owned())
    );
}

#[test]
fn a_bad_element_header_is_not_an_error_until_its_line_is_terminated() {
    // Redis reads a header only once it has the `\r` and one more byte.
    assert_eq!(parse(b"*1\r\nfoo"), Ok(None));
    assert_eq!(parse(b"*1\r\nfoo\r"), Ok(None));
    assert_eq!(parse(b"*x"), Ok(None));
    assert_eq!(parse(b"*x\r"), Ok(None));
}

#[test]
fn an_unterminated_count_longer_than_64_kib_is_too_big_mbulk_count_string() {
    let mut input = vec![b'*'];
    input.resize(64 * 1024, b'1');
    assert_eq!(parse(&input), Ok(None));
    input.push(b'1');
    assert_eq!(parse(&input), Err(ProtocolError::TooBigMultibulkCount));
}

#[test]
fn an_unterminated_bulk_length_longer_than_64_kib_is_too_big_bulk_count_string() {
    let mut input = b"*1\r\n".to_vec();
    input.resize(4 + 64 * 1024, b'$');
    assert_eq!(parse(&input), Ok(None));
    input.push(b'1');
    assert_eq!(parse(&input), Err(ProtocolError::TooBigBulkCount));
}

#[test]
fn an_inline_request_longer_than_64_kib_without_newline_is_too_big_inline_request() {
    let mut input = vec![b'a'; 64 * 1024];
    assert_eq!(parse(&input), Ok(None));
    input.push(b'a');
    assert_eq!(parse(&input), Err(ProtocolError::TooBigInlineRequest));
    // Redis only limits the unterminated part: a long line that does end is fine.
    input.push(b'\n');
    assert!(matches!(parse(&input), Ok(Some((a, n))) if a.len() == 1 && n == input.len()));
}

#[test]
fn unbalanced_quotes_in_an_inline_request_are_a_protocol_error() {
    assert_eq!(parse(b"SET k \"v\r\n"), Err(ProtocolError::UnbalancedQuotes));
    assert_eq!(ProtocolError::UnbalancedQuotes.to_string(), "Protocol error: unbalanced quotes in request");
}

#[test]
fn inline_requests_split_on_blanks_and_end_at_a_newline() {
    assert_eq!(parse(b"SET key value\r\n"), complete(&["SET", "key", "value"], 15));
    assert_eq!(parse(b"  PING \t x  \n"), complete(&["PING", "x"], 13));
    assert_eq!(parse(b"PING\r\r\n"), complete(&["PING"], 7));
    assert_eq!(parse(b"$3\r\n"), complete(&["$3"], 4));
}

#[test]
fn inline_double_quotes_follow_sdssplitargs() {
    assert_eq!(split(b"\"hello world\""), Ok(args(&["hello world"])));
    assert_eq!(split(b"SET k \"\""), Ok(args(&["SET", "k", ""])));
    assert_eq!(split(br#""a\nb\rc\td\be\af""#), Ok(args(&["a\nb\rc\td\x08e\x07f"])));
    assert_eq!(split(br#""\\ \" \q""#), Ok(args(&["\\ \" q"])));
    assert_eq!(split(br#""\x41\x4a\x4B""#), Ok(args(&["AJK"])));
    assert_eq!(split(br#""\xff\x00""#), Ok(vec![Bytes::from_static(b"\xff\x00")]));
    // `\x` without two hex digits is just an escaped `x`.
    assert_eq!(split(br#""\x4g" "\x" "\X41""#), Ok(args(&["x4g", "x", "X41"])));
    // A quote can open mid-argument.
    assert_eq!(split(br#"a"b c""#), Ok(args(&["ab c"])));
    assert_eq!(split(br#""a" b"#), Ok(args(&["a", "b"])));
}

#[test]
fn inline_single_quotes_only_escape_a_single_quote() {
    assert_eq!(split(br"'it\'s'"), Ok(args(&["it's"])));
    assert_eq!(split(br"'a\nb\\ c'"), Ok(args(&["a\\nb\\\\ c"])));
    assert_eq!(split(br#"'say "hi"'"#), Ok(args(&["say \"hi\""])));
}

#[test]
fn a_closing_quote_must_be_followed_by_a_blank_or_the_end() {
    for line in [&br#""a"b"#[..], br"'a'b", br#"a"b c"d"#, br#""a""b""#] {
        assert_eq!(split(line), Err(ProtocolError::UnbalancedQuotes), "{:?}", String::from_utf8_lossy(line));
    }
    // isspace counts \v and \f as blanks here.
    assert_eq!(split(b"\"a\"\x0bb"), Ok(args(&["a", "b"])));
}

#[test]
fn unterminated_quotes_are_unbalanced() {
    for line in [&b"\"abc"[..], b"'abc", b"\"abc\\\"", b"\"abc\\", b"'abc\\'"] {
        assert_eq!(split(line), Err(ProtocolError::UnbalancedQuotes), "{:?}", String::from_utf8_lossy(line));
    }
}

#[test]
fn vertical_tab_and_form_feed_are_skipped_between_arguments_but_kept_inside_one() {
    assert_eq!(split(b"\x0b\x0ca\x0bb c"), Ok(args(&["a\x0bb", "c"])));
}

#[test]
fn a_carriage_return_inside_an_inline_line_separates_arguments() {
    assert_eq!(split(b"a\rb"), Ok(args(&["a", "b"])));
}

#[test]
fn a_nul_byte_ends_an_inline_line_as_in_a_c_string() {
    assert_eq!(split(b"GET a\0b c"), Ok(args(&["GET", "a"])));
    assert_eq!(split(b"\"unterminated\0\""), Err(ProtocolError::UnbalancedQuotes));
    assert_eq!(parse(b"PING\0junk\r\n"), complete(&["PING"], 11));
}

/// A pipeline mixing every request shape, with what each request parses to.
fn pipeline() -> (Vec<u8>, Vec<Vec<Bytes>>) {
    let parts: Vec<(&[u8], Vec<Bytes>)> = vec![
        (b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nva\r\nl\r\n", args(&["SET", "key", "va\r\nl"])),
        (b"PING\r\n", args(&["PING"])),
        (b"*0\r\n", args(&[])),
        (b"\r\n", args(&[])),
        (b"*1\r\n$0\r\n\r\n", args(&[""])),
        (b"ECHO \"a b\" 'c d'\n", args(&["ECHO", "a b", "c d"])),
        (b"*-1\r\n", args(&[])),
        (b"*2\r\n$3\r\nGET\r\n$10\r\n0123456789\r\n", args(&["GET", "0123456789"])),
    ];
    let bytes = parts.iter().flat_map(|(b, _)| b.iter().copied()).collect();
    (bytes, parts.into_iter().map(|(_, a)| a).collect())
}

#[test]
fn pipelined_requests_in_one_buffer_parse_one_after_another() {
    let (bytes, expected) = pipeline();
    let mut got = Vec::new();
    let mut pos = 0;
    while let Some((args, used)) = parse(&bytes[pos..]).expect("valid pipeline") {
        got.push(args);
        pos += used;
    }
    assert_eq!(pos, bytes.len());
    assert_eq!(got, expected);
}

#[test]
fn a_pipeline_fed_byte_by_byte_parses_the_same_with_every_entry_point() {
    let (bytes, expected) = pipeline();
    let limits = Limits::default();

    // parse_request on the unconsumed tail of a growing buffer.
    let (mut got, mut start) = (Vec::new(), 0);
    for end in 1..=bytes.len() {
        while let Some((args, used)) = parse_request(&bytes[start..end], &limits).expect("valid pipeline") {
            got.push(args);
            start += used;
        }
    }
    assert_eq!(got, expected);

    // parse_request_bytes and RequestDecoder on a BytesMut that bytes are appended to.
    let mut decoder = RequestDecoder::new(limits.clone());
    for use_decoder in [false, true] {
        let (mut got, mut buf) = (Vec::new(), BytesMut::new());
        for &byte in &bytes {
            buf.extend_from_slice(&[byte]);
            loop {
                let step = if use_decoder { decoder.decode(&mut buf) } else { parse_request_bytes(&mut buf, &limits) };
                match step.expect("valid pipeline") {
                    Some(args) => got.push(args),
                    None => break,
                }
            }
        }
        assert!(buf.is_empty());
        assert_eq!(got, expected, "decoder: {use_decoder}");
    }
}

#[test]
fn parse_request_bytes_leaves_the_buffer_untouched_until_a_request_is_complete() {
    let mut buf = BytesMut::from(&b"*2\r\n$3\r\nGET\r\n$1\r\nk"[..]);
    assert_eq!(parse_request_bytes(&mut buf, &Limits::default()), Ok(None));
    assert_eq!(buf.len(), 18);
    buf.extend_from_slice(b"\r\nPING\r\n");
    assert_eq!(parse_request_bytes(&mut buf, &Limits::default()), Ok(Some(args(&["GET", "k"]))));
    assert_eq!(&buf[..], b"PING\r\n");
}

#[test]
fn a_huge_bulk_arriving_in_small_reads_is_not_copied_on_every_read() {
    // 8 MiB in 1 KiB reads: quadratic copying would move ~32 GiB and take minutes.
    let payload = vec![b'x'; 8 << 20];
    let mut request = format!("*2\r\n$3\r\nSET\r\n${}\r\n", payload.len()).into_bytes();
    request.extend_from_slice(&payload);
    request.extend_from_slice(b"\r\n");
    let mut decoder = RequestDecoder::default();
    for use_decoder in [false, true] {
        let mut buf = BytesMut::new();
        let mut result = None;
        for chunk in request.chunks(1024) {
            buf.extend_from_slice(chunk);
            let step =
                if use_decoder { decoder.decode(&mut buf) } else { parse_request_bytes(&mut buf, &Limits::default()) };
            if let Some(args) = step.expect("valid request") {
                result = Some(args);
            }
        }
        let args = result.expect("request completes");
        assert_eq!(args.len(), 2);
        assert_eq!(args[1].len(), payload.len());
    }
}

#[test]
fn a_decoder_resumes_a_request_with_many_arguments_across_reads() {
    let n = 10_000;
    let mut request = format!("*{n}\r\n").into_bytes();
    for i in 0..n {
        let arg = i.to_string();
        request.extend_from_slice(format!("${}\r\n{arg}\r\n", arg.len()).as_bytes());
    }
    let mut decoder = RequestDecoder::default();
    let mut buf = BytesMut::new();
    let mut result = None;
    for chunk in request.chunks(7) {
        buf.extend_from_slice(chunk);
        if let Some(args) = decoder.decode(&mut buf).expect("valid request") {
            result = Some(args);
        }
    }
    let args = result.expect("request completes");
    assert_eq!(args.len(), n);
    assert_eq!(args[n - 1], Bytes::from((n - 1).to_string()));
}

#[test]
fn a_decoder_starts_over_after_an_error() {
    let mut decoder = RequestDecoder::default();
    let mut buf = BytesMut::from(&b"*1\r\n:1\r\n"[..]);
    assert_eq!(decoder.decode(&mut buf), Err(ProtocolError::ExpectedBulk(b':')));
    let mut buf = BytesMut::from(&b"PING\r\n"[..]);
    assert_eq!(decoder.decode(&mut buf), Ok(Some(args(&["PING"]))));
}

#[test]
fn a_decoder_whose_buffer_shrank_starts_over_instead_of_misreading() {
    let mut decoder = RequestDecoder::default();
    let mut buf = BytesMut::from(&b"*2\r\n$3\r\nGET\r\n$1\r\n"[..]);
    assert_eq!(decoder.decode(&mut buf), Ok(None));
    let mut buf = BytesMut::from(&b"*1\r\n$4\r\nPING\r\n"[..]);
    assert_eq!(decoder.decode(&mut buf), Ok(Some(args(&["PING"]))));
}
