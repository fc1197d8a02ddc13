//! The set commands (being written).

use storage::StoredValue;

use super::CommandSpec;

/// The name `OBJECT ENCODING` gives a set value.
pub fn encoding_name(_value: &StoredValue) -> &'static str {
    "hashtable"
}

pub static COMMANDS: &[CommandSpec] = &[];
