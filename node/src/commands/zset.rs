//! The zset commands (being written).

use storage::StoredValue;

use super::CommandSpec;

/// The name `OBJECT ENCODING` gives a zset value.
pub fn encoding_name(_value: &StoredValue) -> &'static str {
    "skiplist"
}

pub static COMMANDS: &[CommandSpec] = &[];
