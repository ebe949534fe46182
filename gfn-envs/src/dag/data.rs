//! Observational data: an `N × d` matrix of continuous values, read from CSV with a header.

use std::path::Path;

use gfn_core::{Error, Result};

use super::graph::MAX_NODES;

/// `N` observations of `d` continuous variables, row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    names: Vec<String>,
    values: Vec<f64>,
}

impl Dataset {
    /// A data set from named columns and row-major values, validated like a CSV file (at least one
    /// row, `1..=32` finite, non-constant columns).
    pub fn new(names: Vec<String>, values: Vec<f64>, source_name: &str) -> Result<Self> {
        let parse = |reason: String| Error::Parse { source_name: source_name.to_string(), reason };
        let d = names.len();
        if d == 0 || d > MAX_NODES {
            return Err(parse(format!("{d} columns; between 1 and {MAX_NODES} variables are supported")));
        }
        if values.is_empty() || !values.len().is_multiple_of(d) {
            return Err(parse(format!("{} values do not form rows of {d} columns (at least one row)", values.len())));
        }
        if let Some(k) = values.iter().position(|v| !v.is_finite()) {
            return Err(parse(format!(
                "non-finite value {} in column '{}', row {}",
                values[k],
                names[k % d],
                k / d + 1
            )));
        }
        let data = Dataset { names, values };
        for j in 0..d {
            let first = data.get(0, j);
            if (0..data.samples()).all(|i| data.get(i, j) == first) {
                return Err(parse(format!(
                    "column '{}' is constant ({first} in all {} rows): its variance is zero",
                    data.names[j],
                    data.samples()
                )));
            }
        }
        Ok(data)
    }

    /// Reads a CSV file with a header row naming the variables; every other cell must be a finite
    /// number. Errors name the file, the line and the column.
    pub fn from_csv_path(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        Self::from_csv_reader(file, &path.display().to_string())
    }

    /// Reads CSV text (see [`Dataset::from_csv_path`]); `source_name` is used in error messages.
    pub fn from_csv_reader(reader: impl std::io::Read, source_name: &str) -> Result<Self> {
        let parse = |reason: String| Error::Parse { source_name: source_name.to_string(), reason };
        let mut csv =
            csv::ReaderBuilder::new().has_headers(true).flexible(true).trim(csv::Trim::All).from_reader(reader);
        let names: Vec<String> = csv
            .headers()
            .map_err(|e| parse(format!("cannot read the header: {e}")))?
            .iter()
            .map(str::to_string)
            .collect();
        if names.iter().all(String::is_empty) {
            return Err(parse("the header row is missing or empty".into()));
        }
        if let Some(k) = names.iter().position(String::is_empty) {
            return Err(parse(format!("header column {} has no name", k + 1)));
        }
        let d = names.len();
        let mut values = Vec::new();
        for record in csv.records() {
            let record = record.map_err(|e| parse(e.to_string()))?;
            let line = record.position().map_or(0, csv::Position::line);
            if record.len() != d {
                return Err(parse(format!("line {line}: {} fields, but the header has {d}", record.len())));
            }
            for (cell, name) in record.iter().zip(&names) {
                if cell.is_empty() || ["na", "nan", "?"].contains(&cell.to_ascii_lowercase().as_str()) {
                    return Err(parse(format!("line {line}: missing value {cell:?} in column '{name}'")));
                }
                let value: f64 = cell
                    .parse()
                    .map_err(|_| parse(format!("line {line}: non-numeric value {cell:?} in column '{name}'")))?;
                if !value.is_finite() {
                    return Err(parse(format!("line {line}: non-finite value {cell:?} in column '{name}'")));
                }
                values.push(value);
            }
        }
        if values.is_empty() {
            return Err(parse("no data rows after the header".into()));
        }
        Self::new(names, values, source_name)
    }

    /// The number of observations `N`.
    pub fn samples(&self) -> usize {
        self.values.len() / self.names.len()
    }

    /// The number of variables `d`.
    pub fn variables(&self) -> usize {
        self.names.len()
    }

    /// The variable names (the CSV header).
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Observation `i` of variable `j`.
    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.values[i * self.names.len() + j]
    }

    /// The values, row-major (`N × d`).
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// A 64-bit FNV-1a digest of the names and the exact values, for environment signatures.
    pub fn digest(&self) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let bytes = self
            .names
            .iter()
            .flat_map(|n| n.bytes().chain([0]))
            .chain(self.values.iter().flat_map(|v| v.to_le_bytes()));
        for b in bytes {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        h
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Dataset> {
        Dataset::from_csv_reader(text.as_bytes(), "test.csv")
    }

    fn message(text: &str) -> String {
        read(text).expect_err("malformed").to_string()
    }

    #[test]
    fn reads_a_well_formed_file() {
        let data = read("a, b\n1.0, 2\n-3e-1,4\n5,6.5\n").unwrap();
        assert_eq!((data.samples(), data.variables()), (3, 2));
        assert_eq!(data.names(), ["a", "b"]);
        assert_eq!(data.get(1, 0), -0.3);
        assert_eq!(data.get(2, 1), 6.5);
        assert_ne!(data.digest(), read("a,b\n1,2\n-0.3,4\n5,6.6\n").unwrap().digest());
    }

    #[test]
    fn malformed_files_name_the_line_and_column() {
        let m = message("x,y\n1,2\n3,\n");
        assert!(m.contains("test.csv") && m.contains("line 3") && m.contains("missing") && m.contains("'y'"), "{m}");
        let m = message("x,y\n1,2\n3,NA\n");
        assert!(m.contains("line 3") && m.contains("missing"), "{m}");
        let m = message("x,y\n1,2\n3,4\nfive,6\n");
        assert!(
            m.contains("line 4") && m.contains("non-numeric") && m.contains("\"five\"") && m.contains("'x'"),
            "{m}"
        );
        let m = message("x,y\n1,2\n3,4,5\n");
        assert!(m.contains("line 3") && m.contains("3 fields") && m.contains("header has 2"), "{m}");
        let m = message("x,y\n1,2\n3\n");
        assert!(m.contains("line 3") && m.contains("1 fields"), "{m}");
        let m = message("x,y\n1,2\n1,3\n1,4\n");
        assert!(m.contains("'x'") && m.contains("constant"), "{m}");
        let m = message("x,y\n1,inf\n2,3\n");
        assert!(m.contains("line 2") && m.contains("non-finite"), "{m}");
        let m = message("x,y\n");
        assert!(m.contains("no data rows"), "{m}");
        let m = message("");
        assert!(m.contains("header"), "{m}");
        let m = message("x,,z\n1,2,3\n4,5,6\n");
        assert!(m.contains("header column 2"), "{m}");
    }

    #[test]
    fn missing_files_are_io_errors() {
        let err = Dataset::from_csv_path("/nonexistent/dag-data.csv").expect_err("missing file");
        assert!(matches!(err, Error::Io { .. }) && err.to_string().contains("dag-data.csv"), "{err}");
    }

    #[test]
    fn too_many_columns_are_rejected() {
        let names: Vec<String> = (0..33).map(|i| format!("v{i}")).collect();
        let err = Dataset::new(names, vec![0.0; 33], "wide").expect_err("33 columns");
        assert!(err.to_string().contains("33 columns"), "{err}");
    }
}
