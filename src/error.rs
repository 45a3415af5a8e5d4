//! One error type for the whole crate, by stage, with structured fields.
//!
//! Invalid input is reported where it enters, naming the value and the allowed range; the CLI
//! prints the `Display` form on one line and exits with code 2 (invalid input) or 1 (numerical
//! or I/O failure).

use std::fmt;

/// Crate-wide result type.
pub type Result<T> = std::result::Result<T, Error>;

/// Every failure the engine reports.
#[derive(Debug)]
pub enum Error {
    /// A user-supplied value is out of its allowed range or malformed.
    /// `name` is the parameter (e.g. "radius"), `value` its rendering with unit,
    /// `rule` the range or rule it breaks (e.g. "must be below half the pitch 0.175 µm").
    InvalidInput {
        name: String,
        value: String,
        rule: String,
    },
    /// A design or cell file could not be parsed (unknown key, wrong type, ...).
    Parse { path: String, message: String },
    /// A file could not be read or written.
    Io {
        path: String,
        source: std::io::Error,
    },
    /// A file exists but is not what was expected (corrupt, foreign, wrong kind, other settings).
    Format { path: String, message: String },
    /// A numerical failure that must not be hidden: singular solve at a Rayleigh anomaly,
    /// failed eigensolve, energy not conserved in a lossless structure, etc.
    Numerical {
        stage: &'static str,
        message: String,
    },
    /// The user interrupted a long run (Ctrl-C); completed work was saved.
    Interrupted { message: String },
}

impl Error {
    /// Shorthand for an [`Error::InvalidInput`].
    pub fn invalid(
        name: impl Into<String>,
        value: impl fmt::Display,
        rule: impl Into<String>,
    ) -> Self {
        Error::InvalidInput {
            name: name.into(),
            value: value.to_string(),
            rule: rule.into(),
        }
    }

    /// Shorthand for an [`Error::Numerical`].
    pub fn numerical(stage: &'static str, message: impl Into<String>) -> Self {
        Error::Numerical {
            stage,
            message: message.into(),
        }
    }

    /// Shorthand for an [`Error::Io`].
    pub fn io(path: impl AsRef<std::path::Path>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.as_ref().display().to_string(),
            source,
        }
    }

    /// Shorthand for an [`Error::Format`].
    pub fn format(path: impl AsRef<std::path::Path>, message: impl Into<String>) -> Self {
        Error::Format {
            path: path.as_ref().display().to_string(),
            message: message.into(),
        }
    }

    /// Process exit code: 2 for bad input (value, file content), 1 for everything else.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::InvalidInput { .. } | Error::Parse { .. } | Error::Format { .. } => 2,
            Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => 2,
            Error::Interrupted { .. } => 130,
            _ => 1,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidInput { name, value, rule } => {
                write!(f, "invalid {name} {value}: {rule}")
            }
            Error::Parse { path, message } => write!(f, "cannot parse {path}: {message}"),
            Error::Io { path, source } => write!(f, "{path}: {source}"),
            Error::Format { path, message } => write!(f, "{path}: {message}"),
            Error::Numerical { stage, message } => {
                write!(f, "numerical failure in {stage}: {message}")
            }
            Error::Interrupted { message } => write!(f, "interrupted: {message}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Check that a length is finite and strictly positive.
pub fn check_positive(name: &str, value: f64, unit: &str) -> Result<()> {
    if !value.is_finite() || value <= 0.0 {
        return Err(Error::invalid(
            name,
            format!("{value} {unit}"),
            "must be a finite number > 0",
        ));
    }
    Ok(())
}

/// Check that a value is finite and non-negative.
pub fn check_non_negative(name: &str, value: f64, unit: &str) -> Result<()> {
    if !value.is_finite() || value < 0.0 {
        return Err(Error::invalid(
            name,
            format!("{value} {unit}"),
            "must be a finite number >= 0",
        ));
    }
    Ok(())
}
