//! Redis's HyperLogLog strings, byte for byte, so that a value written here
//! reads back (GET, DUMP) exactly as Redis would have written it and a value
//! copied from Redis works here.
//!
//! # Format
//! ```text
//! "HYLL" | encoding (u8: 0 dense, 1 sparse) | 3 unused bytes
//!   | cached cardinality (u64 LE; top bit set = stale) | registers
//! ```
//! 16384 registers (the low 14 bits of a 64-bit MurmurHash64A pick one; the
//! run of zeros in the other 50 bits, plus one, is its candidate value):
//! - dense: 6 bits each, packed from each byte's least significant bit up,
//!   12288 bytes;
//! - sparse: run-length opcodes, `00xxxxxx` ZERO (1-64 zero registers),
//!   `01xxxxxx yyyyyyyy` XZERO (1-16384), `1vvvvvxx` VAL (1-4 registers of
//!   value 1-32). A sparse value turns dense for good when a register needs
//!   more than 32 or the string would outgrow [`SPARSE_BYTES_MAX`].
//!
//! The sparse update mirrors Redis's `hllSparseSet` step by step (split the
//! opcode covering the register, then merge up to five neighbouring VAL
//! opcodes), since any other valid encoding of the same registers would
//! give different bytes.
//!
//! Cardinality is Redis 7's: a register histogram fed to Otmar Ertl's
//! improved estimator ("New cardinality estimation algorithms for
//! HyperLogLog sketches", arXiv:1702.01284), in the same floating-point
//! operation order, so counts match too.

/// Bytes before the registers.
pub const HEADER_BYTES: usize = 16;
/// Number of registers.
pub const REGISTERS: usize = 1 << P;
const P: u32 = 14;
/// Hash bits left once the register index is taken.
const Q: usize = 64 - P as usize;
const REGISTER_BITS: usize = 6;
/// A whole dense value.
pub const DENSE_BYTES: usize = HEADER_BYTES + (REGISTERS * REGISTER_BITS).div_ceil(8);
pub const DENSE: u8 = 0;
pub const SPARSE: u8 = 1;
/// `hll-sparse-max-bytes`, Redis's default: a sparse value that would
/// grow beyond this many bytes (header included) turns dense.
pub const SPARSE_BYTES_MAX: usize = 3000;
const SPARSE_VAL_MAX_VALUE: u8 = 32;
const SPARSE_VAL_MAX_LEN: usize = 4;
const SPARSE_ZERO_MAX_LEN: usize = 64;
const SPARSE_XZERO_MAX_LEN: usize = 16384;
const HASH_SEED: u64 = 0xadc8_3b19;
/// 0.5 / ln(2), Redis's `HLL_ALPHA_INF`.
const ALPHA_INF: f64 = 0.721_347_520_444_481_7;
const ENCODING_AT: usize = 4;
const CARD_AT: usize = 8;

/// The value is not a well-formed HyperLogLog (a sparse run that does not
/// cover exactly all registers, an unknown encoding).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corrupt;

/// MurmurHash2, 64-bit version (MurmurHash64A), reading blocks as little
/// endian like Redis does on every platform.
pub fn murmur64a(key: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    // Redis passes the length as a C int: it is sign-extended, but element
    // lengths are far below 2^31.
    let mut h = seed ^ (key.len() as u64).wrapping_mul(M);
    let mut blocks = key.chunks_exact(8);
    for block in blocks.by_ref() {
        let mut k = u64::from_le_bytes(block.try_into().unwrap_or([0; 8]));
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        for (i, &byte) in tail.iter().enumerate() {
            h ^= u64::from(byte) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register an element maps to and the value it offers (Redis's
/// `hllPatLen`): one plus the number of trailing zeros of the 50 hash bits
/// above the index, at most 51.
pub fn pattern(element: &[u8]) -> (usize, u8) {
    let hash = murmur64a(element, HASH_SEED);
    let index = (hash & (REGISTERS as u64 - 1)) as usize;
    let rest = (hash >> P) | (1u64 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

/// A new, empty HyperLogLog as Redis creates one: sparse, one XZERO opcode
/// covering every register, cardinality cache 0 (valid).
pub fn new_sparse() -> Vec<u8> {
    let mut hll = Vec::with_capacity(HEADER_BYTES + 2);
    hll.extend_from_slice(b"HYLL");
    hll.push(SPARSE);
    hll.extend_from_slice(&[0; 11]);
    let mut remaining = REGISTERS;
    while remaining > 0 {
        let run = remaining.min(SPARSE_XZERO_MAX_LEN);
        hll.extend_from_slice(&xzero_opcode(run));
        remaining -= run;
    }
    hll
}

/// Redis's `isHLLObjectOrReply` test of a string: magic, known encoding,
/// and the exact length for dense. Sparse opcodes are only checked as they
/// are read.
pub fn is_hll(bytes: &[u8]) -> bool {
    bytes.len() >= HEADER_BYTES
        && bytes.starts_with(b"HYLL")
        && bytes[ENCODING_AT] <= SPARSE
        && (bytes[ENCODING_AT] != DENSE || bytes.len() == DENSE_BYTES)
}

/// The encoding byte of a value that passed [`is_hll`].
pub fn encoding(hll: &[u8]) -> u8 {
    hll[ENCODING_AT]
}

/// The cached cardinality, if it is still valid.
pub fn cached_cardinality(hll: &[u8]) -> Option<u64> {
    let card = u64::from_le_bytes(hll[CARD_AT..HEADER_BYTES].try_into().ok()?);
    (card >> 63 == 0).then_some(card)
}

/// Marks the cached cardinality stale. Only the top bit changes: the rest
/// of the old value stays in the bytes, as in Redis.
pub fn invalidate_cache(hll: &mut [u8]) {
    hll[HEADER_BYTES - 1] |= 0x80;
}

/// Register `index` of a dense register array.
pub fn dense_get(registers: &[u8], index: usize) -> u8 {
    let bit = index * REGISTER_BITS;
    let (byte, shift) = (bit / 8, bit % 8);
    let b0 = u32::from(registers[byte]);
    // The last register lies in the last byte: Redis reads the string's
    // NUL terminator here, whose bits are masked away.
    let b1 = u32::from(registers.get(byte + 1).copied().unwrap_or(0));
    (((b0 >> shift) | (b1 << (8 - shift))) & 63) as u8
}

fn dense_set(registers: &mut [u8], index: usize, value: u8) {
    let bit = index * REGISTER_BITS;
    let (byte, shift) = (bit / 8, bit % 8);
    let value = u32::from(value);
    registers[byte] &= !(63u32 << shift) as u8;
    registers[byte] |= (value << shift) as u8;
    if let Some(next) = registers.get_mut(byte + 1) {
        *next &= !(63u32 >> (8 - shift)) as u8;
        *next |= (value >> (8 - shift)) as u8;
    }
}

/// Raises a dense register to `count`: whether it changed.
fn dense_raise(registers: &mut [u8], index: usize, count: u8) -> bool {
    if count > dense_get(registers, index) {
        dense_set(registers, index, count);
        true
    } else {
        false
    }
}

fn is_zero(op: u8) -> bool {
    op & 0xc0 == 0
}

fn is_xzero(op: u8) -> bool {
    op & 0xc0 == 0x40
}

fn is_val(op: u8) -> bool {
    op & 0x80 != 0
}

fn zero_len(op: u8) -> usize {
    usize::from(op & 0x3f) + 1
}

/// An XZERO's run; `next` is its second byte (Redis reads the string's NUL
/// terminator when a corrupt value ends after the first).
fn xzero_len(op: u8, next: Option<u8>) -> usize {
    ((usize::from(op & 0x3f) << 8) | usize::from(next.unwrap_or(0))) + 1
}

fn val_value(op: u8) -> u8 {
    ((op >> 2) & 0x1f) + 1
}

fn val_len(op: u8) -> usize {
    usize::from(op & 0x3) + 1
}

fn val_opcode(value: u8, len: usize) -> u8 {
    0x80 | ((value - 1) << 2) | (len - 1) as u8
}

fn zero_opcode(len: usize) -> u8 {
    (len - 1) as u8
}

fn xzero_opcode(len: usize) -> [u8; 2] {
    let l = len - 1;
    [0x40 | (l >> 8) as u8, (l & 0xff) as u8]
}

/// One opcode of a sparse body.
enum Run {
    Zero(usize),
    Val(u8, usize),
}

/// Reads the opcode at `at`: what it encodes and its size in bytes.
fn read_op(hll: &[u8], at: usize) -> (Run, usize) {
    let op = hll[at];
    if is_zero(op) {
        (Run::Zero(zero_len(op)), 1)
    } else if is_xzero(op) {
        (Run::Zero(xzero_len(op, hll.get(at + 1).copied())), 2)
    } else {
        (Run::Val(val_value(op), val_len(op)), 1)
    }
}

/// Redis's `hllSparseToDense`: the dense form of a sparse value, header
/// (and so the cached cardinality) kept.
pub fn sparse_to_dense(hll: &[u8]) -> Result<Vec<u8>, Corrupt> {
    let mut dense = vec![0u8; DENSE_BYTES];
    dense[..HEADER_BYTES].copy_from_slice(&hll[..HEADER_BYTES]);
    dense[ENCODING_AT] = DENSE;
    let registers = &mut dense[HEADER_BYTES..];
    let (mut index, mut at) = (0usize, HEADER_BYTES);
    while at < hll.len() {
        let (run, size) = read_op(hll, at);
        match run {
            Run::Zero(len) => index += len,
            Run::Val(value, len) => {
                if index + len > REGISTERS {
                    break;
                }
                for i in index..index + len {
                    dense_set(registers, i, value);
                }
                index += len;
            }
        }
        at += size;
    }
    if index != REGISTERS {
        return Err(Corrupt);
    }
    Ok(dense)
}

/// Turns a sparse value dense and raises the register there (the update
/// the sparse form could not hold always raises it).
fn promote(hll: &mut Vec<u8>, index: usize, count: u8) -> Result<bool, Corrupt> {
    *hll = sparse_to_dense(hll)?;
    dense_raise(&mut hll[HEADER_BYTES..], index, count);
    Ok(true)
}

/// The shortest run of zero registers: ZERO up to 64, XZERO beyond.
fn push_zero_run(seq: &mut Vec<u8>, len: usize) {
    if len > SPARSE_ZERO_MAX_LEN {
        seq.extend_from_slice(&xzero_opcode(len));
    } else {
        seq.push(zero_opcode(len));
    }
}

/// Redis's `hllSparseSet`: raises register `index` of a sparse value to
/// `count` if lower, in place, possibly turning the value dense. Whether
/// the register changed.
fn sparse_set(hll: &mut Vec<u8>, index: usize, count: u8) -> Result<bool, Corrupt> {
    if count > SPARSE_VAL_MAX_VALUE {
        return promote(hll, index, count);
    }
    // Step 1: the opcode covering the register, and the one before it.
    let end = hll.len();
    let (mut at, mut first, mut span) = (HEADER_BYTES, 0usize, 0usize);
    let mut prev = None;
    while at < end {
        let (run, size) = read_op(hll, at);
        span = match run {
            Run::Zero(len) | Run::Val(_, len) => len,
        };
        if index < first + span {
            break;
        }
        prev = Some(at);
        at += size;
        first += span;
    }
    if span == 0 || at >= end {
        return Err(Corrupt);
    }
    let op = hll[at];
    let op_bytes = if is_xzero(op) { 2 } else { 1 };
    let next = Some(at + op_bytes).filter(|&n| n < end);

    // Step 2: trivial updates in place, else the replacement sequence.
    if is_val(op) {
        if val_value(op) >= count {
            return Ok(false);
        }
        if val_len(op) == 1 {
            hll[at] = val_opcode(count, 1);
            merge_vals(hll, prev);
            return Ok(true);
        }
    }
    if is_zero(op) && zero_len(op) == 1 {
        hll[at] = val_opcode(count, 1);
        merge_vals(hll, prev);
        return Ok(true);
    }
    let last = first + span - 1;
    let mut seq = Vec::with_capacity(5);
    if is_val(op) {
        let current = val_value(op);
        if index != first {
            seq.push(val_opcode(current, index - first));
        }
        seq.push(val_opcode(count, 1));
        if index != last {
            seq.push(val_opcode(current, last - index));
        }
    } else {
        if index != first {
            push_zero_run(&mut seq, index - first);
        }
        seq.push(val_opcode(count, 1));
        if index != last {
            push_zero_run(&mut seq, last - index);
        }
    }

    // Step 3: splice it in, unless the value would grow too big.
    let new_len = (end + seq.len()).checked_sub(op_bytes).ok_or(Corrupt)?;
    if new_len > end && new_len > SPARSE_BYTES_MAX {
        return promote(hll, index, count);
    }
    let tail = next.map(|n| hll[n..].to_vec()).unwrap_or_default();
    hll.truncate(at);
    hll.extend_from_slice(&seq);
    hll.extend_from_slice(&tail);
    // Only differs for a corrupt value ending inside an XZERO, which Redis
    // also cuts back to the length it computes.
    hll.truncate(new_len);
    merge_vals(hll, prev);
    Ok(true)
}

/// Step 4 of `hllSparseSet`: from the opcode before the updated one, merges
/// adjacent VAL opcodes of equal value while their runs fit one opcode,
/// looking at up to five opcodes; then marks the cache stale.
fn merge_vals(hll: &mut Vec<u8>, prev: Option<usize>) {
    let mut at = prev.unwrap_or(HEADER_BYTES);
    let mut budget = 5;
    while at < hll.len() && budget > 0 {
        budget -= 1;
        let op = hll[at];
        if is_xzero(op) {
            at += 2;
            continue;
        }
        if is_zero(op) {
            at += 1;
            continue;
        }
        if let Some(&next) = hll.get(at + 1).filter(|&&n| is_val(n)) {
            let len = val_len(op) + val_len(next);
            if val_value(op) == val_value(next) && len <= SPARSE_VAL_MAX_LEN {
                hll[at + 1] = val_opcode(val_value(op), len);
                hll.remove(at);
                // Try the merged opcode with the one after it.
                continue;
            }
        }
        at += 1;
    }
    invalidate_cache(hll);
}

/// Raises register `index` to `count` if lower, whatever the encoding:
/// whether it changed.
pub fn raise(hll: &mut Vec<u8>, index: usize, count: u8) -> Result<bool, Corrupt> {
    match hll[ENCODING_AT] {
        DENSE => Ok(dense_raise(&mut hll[HEADER_BYTES..], index, count)),
        SPARSE => sparse_set(hll, index, count),
        _ => Err(Corrupt),
    }
}

/// PFADD of one element: whether a register changed.
pub fn add(hll: &mut Vec<u8>, element: &[u8]) -> Result<bool, Corrupt> {
    let (index, count) = pattern(element);
    raise(hll, index, count)
}

/// PFDEBUG DECODE: the opcodes of a sparse value, as `Z:<run>` (XZERO),
/// `z:<run>` (ZERO) and `v:<value>,<run>` (VAL), separated by spaces.
pub fn decode_sparse(hll: &[u8]) -> String {
    let mut parts = Vec::new();
    let mut at = HEADER_BYTES;
    while at < hll.len() {
        let op = hll[at];
        let (run, size) = read_op(hll, at);
        parts.push(match run {
            Run::Zero(len) if is_xzero(op) => format!("Z:{len}"),
            Run::Zero(len) => format!("z:{len}"),
            Run::Val(value, len) => format!("v:{value},{len}"),
        });
        at += size;
    }
    parts.join(" ")
}

/// Redis's `hllMerge`: raises each of `max` (one byte per register) to the
/// value's register.
pub fn merge_into(max: &mut [u8], hll: &[u8]) -> Result<(), Corrupt> {
    if hll[ENCODING_AT] == DENSE {
        let registers = &hll[HEADER_BYTES..];
        for (i, slot) in max.iter_mut().enumerate().take(REGISTERS) {
            *slot = (*slot).max(dense_get(registers, i));
        }
        return Ok(());
    }
    let (mut index, mut at) = (0usize, HEADER_BYTES);
    while at < hll.len() {
        let (run, size) = read_op(hll, at);
        match run {
            Run::Zero(len) => index += len,
            Run::Val(value, len) => {
                if index + len > REGISTERS {
                    break;
                }
                for slot in &mut max[index..index + len] {
                    *slot = (*slot).max(value);
                }
                index += len;
            }
        }
        at += size;
    }
    if index != REGISTERS {
        return Err(Corrupt);
    }
    Ok(())
}

/// The estimated cardinality of a value (not using the cache).
pub fn count(hll: &[u8]) -> Result<u64, Corrupt> {
    let mut histogram = [0u32; 64];
    if hll[ENCODING_AT] == DENSE {
        let registers = &hll[HEADER_BYTES..];
        for i in 0..REGISTERS {
            histogram[usize::from(dense_get(registers, i))] += 1;
        }
    } else {
        let (mut index, mut at) = (0usize, HEADER_BYTES);
        while at < hll.len() {
            let (run, size) = read_op(hll, at);
            let (value, len) = match run {
                Run::Zero(len) => (0, len),
                Run::Val(value, len) => (usize::from(value), len),
            };
            // Wrapping like Redis's int counters; a value where it matters
            // is rejected below anyway.
            histogram[value] = histogram[value].wrapping_add(len as u32);
            index += len;
            at += size;
        }
        if index != REGISTERS {
            return Err(Corrupt);
        }
    }
    Ok(estimate(&histogram))
}

/// The estimated cardinality of registers held one per byte.
pub fn count_registers(registers: &[u8]) -> u64 {
    let mut histogram = [0u32; 64];
    for &value in registers {
        histogram[usize::from(value & 63)] += 1;
    }
    estimate(&histogram)
}

/// Ertl's sigma function.
fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let previous = z;
        z += x * y;
        y += y;
        if previous == z {
            return z;
        }
    }
}

/// Ertl's tau function.
fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let previous = z;
        y *= 0.5;
        // Redis writes pow(1 - x, 2), which compilers turn into this exact
        // product.
        z -= (1.0 - x) * (1.0 - x) * y;
        if previous == z {
            return z / 3.0;
        }
    }
}

/// Redis 7's `hllCount` from a register histogram.
fn estimate(histogram: &[u32; 64]) -> u64 {
    let m = REGISTERS as f64;
    let mut z = m * tau((m - f64::from(histogram[Q + 1])) / m);
    for &registers in histogram[1..=Q].iter().rev() {
        z += f64::from(registers);
        z *= 0.5;
    }
    z += m * sigma(f64::from(histogram[0]) / m);
    // llroundl: halves away from zero, like f64::round.
    (ALPHA_INF * m * m / z).round() as u64
}

/// PFSELFTEST, Redis's self-test: dense registers keep the values set, and
/// the estimate of 1 to 10^7 distinct elements stays within six standard
/// errors, sparse and dense agreeing while both apply. `random` stands for
/// the C library's `rand()`. The error is the text after `ERR `.
pub fn self_test(mut random: impl FnMut() -> u32) -> Result<(), String> {
    let mut dense = vec![0u8; DENSE_BYTES];
    let mut expected = vec![0u8; REGISTERS];
    for _ in 0..1000 {
        for (i, slot) in expected.iter_mut().enumerate() {
            let value = (random() & 63) as u8;
            *slot = value;
            dense_set(&mut dense[HEADER_BYTES..], i, value);
        }
        for (i, &want) in expected.iter().enumerate() {
            let got = dense_get(&dense[HEADER_BYTES..], i);
            if got != want {
                return Err(format!("TESTFAILED Register {i} should be {want} but is {got}"));
            }
        }
    }

    dense[HEADER_BYTES..].fill(0);
    let mut sparse = new_sparse();
    let relative_error = 1.04 / (REGISTERS as f64).sqrt();
    let mut checkpoint: u64 = 1;
    let seed = u64::from(random()) | (u64::from(random()) << 32);
    for j in 1..=10_000_000u64 {
        let element = (j ^ seed).to_le_bytes();
        let (index, value) = pattern(&element);
        dense_raise(&mut dense[HEADER_BYTES..], index, value);
        // Redis ignores a failure here too; the comparison below catches it.
        let _ = add(&mut sparse, &element);
        if j != checkpoint {
            continue;
        }
        if j < (SPARSE_BYTES_MAX / 2) as u64 && encoding(&sparse) != SPARSE {
            return Err("TESTFAILED sparse encoding not used".into());
        }
        let dense_count = count(&dense).map_err(|_| "TESTFAILED dense/sparse disagree".to_string())?;
        if count(&sparse) != Ok(dense_count) {
            return Err("TESTFAILED dense/sparse disagree".into());
        }
        let error = (checkpoint as i64 - dense_count as i64).unsigned_abs();
        let max_error = if j == 10 { 1 } else { (relative_error * 6.0 * checkpoint as f64).ceil() as u64 };
        if error > max_error {
            return Err(format!("TESTFAILED Too big error. card:{checkpoint} abserr:{error}"));
        }
        checkpoint *= 10;
    }
    Ok(())
}
