use thiserror::Error;

/// Errors raised by the storage layer.
#[derive(Debug, Error)]
pub enum StorageError {
    #[error("rocksdb: {0}")]
    Rocks(#[from] rocksdb::Error),
    #[error("corrupt stored value for {what}: {detail}")]
    Corrupt { what: &'static str, detail: String },
    #[error("write attempted through a read-only view")]
    ReadOnly,
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error("encoding: {0}")]
    Encoding(#[from] bincode::Error),
}

impl StorageError {
    pub fn corrupt(what: &'static str, detail: impl Into<String>) -> Self {
        StorageError::Corrupt { what, detail: detail.into() }
    }
}
