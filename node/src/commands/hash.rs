//! The hash commands (being written).

use storage::StoredValue;

use super::CommandSpec;

/// The name `OBJECT ENCODING` gives a hash value.
pub fn encoding_name(_value: &StoredValue) -> &'static str {
    "listpack"
}

pub static COMMANDS: &[CommandSpec] = &[];
