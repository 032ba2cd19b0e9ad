//! Phone numbers a spreadsheet damaged on the way out of a CRM: turned into
//! a rounded float (`8.05E+09`, `8045550101.0`) or stripped of its leading
//! `+`. Such a number is refused locally, with what happened and how to
//! re-export: a guess at the lost digits is a stranger's number.

/// What a spreadsheet did to `phone`, with the way out; `None` when the
/// value shows no such damage (it may still be invalid for other reasons).
pub fn phone_damage(phone: &str) -> Option<String> {
    let phone = phone.trim();
    const HOW: &str = "format the phone column as Text before saving, or export from the CRM \
                       straight to CSV without opening the file in a spreadsheet";
    if is_scientific(phone) {
        return Some(format!(
            "phone_number: `{phone}` is in scientific notation: a spreadsheet stored the number \
             as a float and rounded away its digits, which cannot be recovered; {HOW}"
        ));
    }
    if let Some((whole, fraction)) = phone.split_once('.')
        && whole.len() >= 10
        && whole.bytes().all(|b| b.is_ascii_digit())
        && !fraction.is_empty()
        && fraction.bytes().all(|b| b == b'0')
    {
        return Some(format!(
            "phone_number: `{phone}` was written as a decimal number (a spreadsheet or script \
             stored it as a float); {HOW}"
        ));
    }
    let digits = phone.bytes().filter(u8::is_ascii_digit).count();
    let only_digits = phone
        .bytes()
        .all(|b| b.is_ascii_digit() || b" -.()".contains(&b));
    let us_form = digits == 10 || (digits == 11 && phone.trim_start_matches('(').starts_with('1'));
    if only_digits && (11..=15).contains(&digits) && !us_form {
        return Some(format!(
            "phone_number: `{phone}` has {digits} digits and no leading `+`: it looks like an \
             international number whose `+` a spreadsheet dropped (it reads `+...` as a formula \
             or a number), and is not a US number; {HOW}"
        ));
    }
    None
}

/// `8.05E+09`, `1.8045E10`, `8E9`: digits, an optional fraction, an exponent.
fn is_scientific(text: &str) -> bool {
    let Some((mantissa, exponent)) = text.split_once(['e', 'E']) else {
        return false;
    };
    let exponent = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
        && !exponent.is_empty()
        && exponent.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_and_lost_plus_damage_is_named_and_good_numbers_pass() {
        for (damaged, says) in [
            ("8.05E+09", "scientific notation"),
            ("1.8045550101e10", "scientific notation"),
            ("8E9", "scientific notation"),
            ("8045550101.0", "decimal number"),
            ("447911123456", "dropped"),
            ("33 6 12 34 56 78", "dropped"),
        ] {
            let reason = phone_damage(damaged).unwrap_or_else(|| panic!("{damaged}"));
            assert!(reason.starts_with("phone_number: "), "{reason}");
            assert!(reason.contains(says) && reason.contains("Text"), "{reason}");
        }
        for fine in [
            "+18045550101",
            "8045550101",
            "18045550101",
            "1 (804) 555-0101",
            "(804) 555-0101",
            "+447911123456",
            "804.555.0101",
            "not a phone",
        ] {
            assert_eq!(phone_damage(fine), None, "{fine}");
        }
    }
}
