//! Parsing of complex numbers (`2.74+0.01i`): the text of a constant index.

use crate::C64;

/// Parse `a`, `a+bi`, `a-bi`, `bi` (also with `j`). Returns Err(()) on malformed input; the
/// caller words the error, since it knows which parameter was meant.
#[allow(clippy::result_unit_err)]
pub fn parse_complex(s: &str) -> std::result::Result<C64, ()> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    if s.is_empty() {
        return Err(());
    }
    let num = |t: &str| -> std::result::Result<f64, ()> {
        let v: f64 = t.parse().map_err(|_| ())?;
        if v.is_finite() {
            Ok(v)
        } else {
            Err(())
        }
    };
    if let Some(body) = s.strip_suffix('i').or_else(|| s.strip_suffix('j')) {
        // find the split between real and imaginary parts: last + or - not after an exponent 'e'
        let bytes = body.as_bytes();
        let mut split = None;
        for i in (1..bytes.len()).rev() {
            if (bytes[i] == b'+' || bytes[i] == b'-') && !matches!(bytes[i - 1], b'e' | b'E') {
                split = Some(i);
                break;
            }
        }
        return match split {
            Some(i) => {
                let im_s = &body[i..];
                let im = if im_s == "+" || im_s == "-" {
                    num(&format!("{im_s}1"))?
                } else {
                    num(im_s)?
                };
                Ok(C64::new(num(&body[..i])?, im))
            }
            None => Ok(C64::new(
                0.0,
                if body.is_empty() { 1.0 } else { num(body)? },
            )),
        };
    }
    Ok(C64::new(num(&s)?, 0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complex_forms() {
        assert_eq!(parse_complex("2.74+0.01i"), Ok(C64::new(2.74, 0.01)));
        assert_eq!(parse_complex("1e-3-2e-2j"), Ok(C64::new(1e-3, -2e-2)));
        assert_eq!(parse_complex("1.5e+1"), Ok(C64::new(15.0, 0.0)));
        assert_eq!(parse_complex("3i"), Ok(C64::new(0.0, 3.0)));
        assert!(parse_complex("1+").is_err());
        assert!(parse_complex("inf").is_err());
    }
}
