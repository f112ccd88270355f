//! Names of sources and watchlists: validated once, then passed around as themselves.

use std::borrow::Borrow;
use std::fmt;
use std::str::FromStr;

/// Why a name is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected letters, digits, '-' or '_', found {0:?}")]
pub struct NameError(pub String);

fn valid(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
}

macro_rules! name_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        ///
        /// Invariant: non-empty, only letters, digits, `-` and `_`.
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        /// Like the string's: a name in a message reads `"niger"`.
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.0, f)
            }
        }

        impl $name {
            /// The name as written.
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// A name read back from the database, where only valid names are written;
            /// not checked again.
            #[must_use]
            pub fn from_stored(s: String) -> Self {
                Self(s)
            }
        }

        impl FromStr for $name {
            type Err = NameError;

            fn from_str(s: &str) -> Result<Self, NameError> {
                if valid(s) {
                    Ok(Self(s.to_owned()))
                } else {
                    Err(NameError(s.to_owned()))
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
    };
}

name_type!(
    /// A source's `name` from the config (`aljazeera-ar`).
    SourceName
);
name_type!(
    /// A watchlist's `name` from the config (`niger`).
    WatchlistName
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_validated() {
        for ok in ["niger", "aljazeera-ar", "bbc_ar", "النيجر", "a1"] {
            assert_eq!(
                ok.parse::<SourceName>().map(|n| n.to_string()),
                Ok(ok.into())
            );
        }
        for bad in ["", "a b", "a/b", "a.b", "niger!"] {
            assert!(bad.parse::<WatchlistName>().is_err(), "{bad:?}");
        }
    }
}

/// One running newswatch process, among the instances sharing a database:
/// `<machine>:<pid>:<random>`, new for every start.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct InstanceId(String);

impl InstanceId {
    /// A new id for this process on `machine`.
    #[must_use]
    pub fn new(machine: &str, pid: u32, nonce: u32) -> InstanceId {
        InstanceId(format!("{machine}:{pid}:{nonce:08x}"))
    }

    /// An id read back from the database.
    #[must_use]
    pub fn from_stored(s: String) -> InstanceId {
        InstanceId(s)
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for InstanceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for InstanceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}
