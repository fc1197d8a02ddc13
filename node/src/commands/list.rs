//! The list commands (being written).

use storage::StoredValue;

use super::CommandSpec;

/// The name `OBJECT ENCODING` gives a list value.
pub fn encoding_name(_value: &StoredValue) -> &'static str {
    "quicklist"
}

pub static COMMANDS: &[CommandSpec] = &[];
