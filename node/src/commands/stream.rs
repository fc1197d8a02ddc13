//! The stream commands (being written).

use storage::StoredValue;

use super::CommandSpec;

/// The name `OBJECT ENCODING` gives a stream value.
pub fn encoding_name(_value: &StoredValue) -> &'static str {
    "stream"
}

pub static COMMANDS: &[CommandSpec] = &[];
