//! RedisJSON paths: JSONPath (`$...`) and the legacy dotted syntax (`.a.b`,
//! `a[0]`, `.`), parsed into steps and evaluated into concrete locations.
//!
//! Evaluation yields locations (key/index chains) rather than references so
//! that write commands can resolve each match mutably, one at a time.

use serde_json::Value;

use crate::error::CommandError;

/// What one step selects among a value's children.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    Key(String),
    /// An array index; negative counts from the end.
    Index(i64),
    /// Every child, in document order.
    All,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Child(Selector),
    /// `..`: the selector applied to the value and all its descendants.
    Descendants(Selector),
}

/// One element of a concrete location.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Elem {
    Index(usize),
    Key(String),
}

pub type Location = Vec<Elem>;

#[derive(Debug, Clone)]
pub struct Path {
    /// The path as the client wrote it, for error texts and MGET/GET keys.
    pub original: String,
    /// Legacy paths answer with one value (or an error); JSONPath with an
    /// array of every match.
    pub legacy: bool,
    pub steps: Vec<Step>,
}

impl Path {
    pub fn is_root(&self) -> bool {
        self.steps.is_empty()
    }

    /// The legacy root, the default path of most commands.
    pub fn legacy_root() -> Path {
        Path { original: ".".into(), legacy: true, steps: Vec::new() }
    }

    pub fn parse(raw: &[u8]) -> Result<Path, CommandError> {
        let original = String::from_utf8_lossy(raw).into_owned();
        let invalid = || CommandError::err(format!("Invalid JSONPath: {original}"));
        let (legacy, rest) = match original.strip_prefix('$') {
            Some(rest) => (false, rest),
            None => (true, original.as_str()),
        };
        let bytes = rest.as_bytes();
        let mut steps = Vec::new();
        let mut at = 0;
        // A legacy path may start with a bare name ("a.b" is ".a.b").
        if legacy && !bytes.is_empty() && bytes[0] != b'.' && bytes[0] != b'[' {
            let end = name_end(bytes, 0);
            steps.push(Step::Child(name_selector(&rest[..end])));
            at = end;
        }
        while at < bytes.len() {
            match bytes[at] {
                b'.' if bytes.get(at + 1) == Some(&b'.') => {
                    at += 2;
                    let (selector, next) = if bytes.get(at) == Some(&b'[') {
                        bracket(rest, at).ok_or_else(invalid)?
                    } else {
                        let end = name_end(bytes, at);
                        if end == at {
                            return Err(invalid());
                        }
                        (name_selector(&rest[at..end]), end)
                    };
                    steps.push(Step::Descendants(selector));
                    at = next;
                }
                b'.' => {
                    at += 1;
                    let end = name_end(bytes, at);
                    if end == at {
                        // "." alone is the legacy root; a trailing dot elsewhere is malformed.
                        if legacy && at == bytes.len() && steps.is_empty() {
                            break;
                        }
                        return Err(invalid());
                    }
                    steps.push(Step::Child(name_selector(&rest[at..end])));
                    at = end;
                }
                b'[' => {
                    let (selector, next) = bracket(rest, at).ok_or_else(invalid)?;
                    steps.push(Step::Child(selector));
                    at = next;
                }
                _ => return Err(invalid()),
            }
        }
        Ok(Path { original, legacy, steps })
    }

    /// Every location the path matches in `root`, in document order.
    pub fn select(&self, root: &Value) -> Vec<Location> {
        let mut current: Vec<Location> = vec![Vec::new()];
        for step in &self.steps {
            let mut next = Vec::new();
            for loc in &current {
                let Some(value) = resolve(root, loc) else { continue };
                match step {
                    Step::Child(selector) => apply(selector, value, loc, &mut next),
                    Step::Descendants(selector) => descend(selector, value, loc, &mut next),
                }
            }
            current = next;
        }
        current
    }

    /// The path without its last step and that step's key, when the last
    /// step names an object member: where SET may create a new member.
    pub fn parent_and_key(&self) -> Option<(Path, &str)> {
        match self.steps.last()? {
            Step::Child(Selector::Key(key)) => Some((
                Path {
                    original: self.original.clone(),
                    legacy: self.legacy,
                    steps: self.steps[..self.steps.len() - 1].to_vec(),
                },
                key.as_str(),
            )),
            _ => None,
        }
    }
}

fn name_end(bytes: &[u8], from: usize) -> usize {
    bytes[from..].iter().position(|b| *b == b'.' || *b == b'[').map_or(bytes.len(), |p| from + p)
}

fn name_selector(name: &str) -> Selector {
    if name == "*" {
        Selector::All
    } else {
        Selector::Key(name.to_string())
    }
}

/// Parses `[...]` at `at`: a quoted member name, an index or `*`.
fn bracket(text: &str, at: usize) -> Option<(Selector, usize)> {
    let inner_start = at + 1;
    let bytes = text.as_bytes();
    let quote = *bytes.get(inner_start)?;
    if quote == b'\'' || quote == b'"' {
        let mut name = String::new();
        let mut chars = text[inner_start + 1..].char_indices();
        while let Some((i, c)) = chars.next() {
            if c == '\\' {
                name.push(chars.next()?.1);
            } else if c as u32 == quote as u32 {
                let close = inner_start + 1 + i + 1;
                return (bytes.get(close) == Some(&b']')).then_some((Selector::Key(name), close + 1));
            } else {
                name.push(c);
            }
        }
        return None;
    }
    let close = inner_start + text[inner_start..].find(']')?;
    let inner = text[inner_start..close].trim();
    let selector = if inner == "*" { Selector::All } else { Selector::Index(inner.parse().ok()?) };
    Some((selector, close + 1))
}

pub fn resolve<'v>(root: &'v Value, loc: &[Elem]) -> Option<&'v Value> {
    loc.iter().try_fold(root, |value, elem| match (elem, value) {
        (Elem::Key(k), Value::Object(map)) => map.get(k),
        (Elem::Index(i), Value::Array(items)) => items.get(*i),
        _ => None,
    })
}

pub fn resolve_mut<'v>(root: &'v mut Value, loc: &[Elem]) -> Option<&'v mut Value> {
    loc.iter().try_fold(root, |value, elem| match (elem, value) {
        (Elem::Key(k), Value::Object(map)) => map.get_mut(k),
        (Elem::Index(i), Value::Array(items)) => items.get_mut(*i),
        _ => None,
    })
}

fn child(loc: &Location, elem: Elem) -> Location {
    let mut out = loc.clone();
    out.push(elem);
    out
}

fn apply(selector: &Selector, value: &Value, loc: &Location, out: &mut Vec<Location>) {
    match (selector, value) {
        (Selector::Key(k), Value::Object(map)) if map.contains_key(k) => out.push(child(loc, Elem::Key(k.clone()))),
        (Selector::Index(i), Value::Array(items)) => {
            let len = items.len() as i64;
            let at = if *i < 0 { len + i } else { *i };
            if (0..len).contains(&at) {
                out.push(child(loc, Elem::Index(at as usize)));
            }
        }
        (Selector::All, Value::Object(map)) => out.extend(map.keys().map(|k| child(loc, Elem::Key(k.clone())))),
        (Selector::All, Value::Array(items)) => out.extend((0..items.len()).map(|i| child(loc, Elem::Index(i)))),
        _ => {}
    }
}

/// `..selector`: the selector applied to `value`, then to each descendant,
/// depth first.
fn descend(selector: &Selector, value: &Value, loc: &Location, out: &mut Vec<Location>) {
    apply(selector, value, loc, out);
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                descend(selector, v, &child(loc, Elem::Key(k.clone())), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                descend(selector, v, &child(loc, Elem::Index(i)), out);
            }
        }
        _ => {}
    }
}
