//! The column names CRM exports and spreadsheets use, as aliases of the lead
//! fields and the documented metadata keys (the README lists them per CRM).

/// Other names CRM exports and spreadsheets give the lead fields, as
/// [`normalise`](crate::columns::normalise)d keys, each with a rank. When several columns fill one field,
/// each row takes the first non-empty cell by rank (see [`Target::Choice`](crate::columns::Target::Choice));
/// two columns of one rank for one field are refused as ambiguous.
///
/// Phone: a mobile column comes first (rank 0), then the main phone (1), then
/// home and other phones (2, 3). Sela calls and texts the lead in person: a
/// mobile reaches the person and can take the SMS follow-ups, while a
/// "Phone" is often a desk line or a switchboard.
pub(super) const ALIASES: &[(&str, &str, u8)] = &[
    // Mobile: HubSpot `Mobile Phone Number`, Salesforce `Mobile`/`MobilePhone`,
    // Zoho `Mobile`, Pipedrive `Person - Phone - Mobile`, spreadsheets `Cell`.
    ("mobile", "phone_number", 0),
    ("mobilephone", "phone_number", 0),
    ("mobilenumber", "phone_number", 0),
    ("mobilephonenumber", "phone_number", 0),
    ("cell", "phone_number", 0),
    ("cellphone", "phone_number", 0),
    ("cellnumber", "phone_number", 0),
    ("cellphonenumber", "phone_number", 0),
    ("phonemobile", "phone_number", 0),
    ("personphonemobile", "phone_number", 0),
    // Main phone: HubSpot `Phone Number`, Salesforce/Zoho `Phone`, Pipedrive
    // `Person - Phone` / `Person - Phone - Work`, Follow Up Boss `Phone 1`.
    ("phonenumber", "phone_number", 1),
    ("phone", "phone_number", 1),
    ("phoneno", "phone_number", 1),
    ("telephone", "phone_number", 1),
    ("tel", "phone_number", 1),
    ("phone1", "phone_number", 1),
    ("personphone", "phone_number", 1),
    ("personphonework", "phone_number", 1),
    ("workphone", "phone_number", 1),
    ("businessphone", "phone_number", 1),
    // Other phones: Salesforce `Home Phone`/`HomePhone`, `Other Phone`,
    // Follow Up Boss `Phone 2`, `Phone 3`, Pipedrive `Person - Phone - Home`/`Other`.
    ("homephone", "phone_number", 2),
    ("phone2", "phone_number", 2),
    ("personphonehome", "phone_number", 2),
    ("otherphone", "phone_number", 3),
    ("phone3", "phone_number", 3),
    ("personphoneother", "phone_number", 3),
    // E-mail: HubSpot `Email`, Salesforce/Zoho `Email`, Follow Up Boss
    // `Email 1`/`Email 2`, Zoho `Secondary Email`, Pipedrive `Person - Email`.
    ("email", "email", 0),
    ("emailaddress", "email", 0),
    ("mail", "email", 0),
    ("email1", "email", 0),
    ("primaryemail", "email", 0),
    ("personemail", "email", 0),
    ("personemailwork", "email", 0),
    ("email2", "email", 1),
    ("secondaryemail", "email", 1),
    ("personemailhome", "email", 1),
    ("personemailother", "email", 2),
    // Record ids: HubSpot and Zoho `Record ID`, Salesforce reports `Lead ID` /
    // `Contact ID`, Data Loader and Follow Up Boss `Id`, Pipedrive `Person - ID`.
    ("externalid", "external_id", 0),
    ("crmid", "external_id", 0),
    ("recordid", "external_id", 0),
    ("leadid", "external_id", 0),
    ("contactid", "external_id", 0),
    ("personid", "external_id", 0),
    ("id", "external_id", 0),
    // State: HubSpot `State/Region`, Salesforce `State/Province` (reports),
    // `State` and `MailingState` (Data Loader), `Mailing State/Province`
    // (contact reports), Zoho `State`, Follow Up Boss `Address 1 - State`.
    ("usstate", "us_state", 0),
    ("state", "us_state", 0),
    ("stateregion", "us_state", 0),
    ("stateprovince", "us_state", 0),
    ("mailingstate", "us_state", 0),
    ("mailingstateprovince", "us_state", 0),
    ("address1state", "us_state", 0),
    ("source", "lead_source", 0),
];

/// Other names exports give the documented metadata keys, as [`normalise`](crate::columns::normalise)d
/// keys: postal codes (HubSpot `Postal Code`/`Zip code`, Salesforce
/// `Zip/Postal Code`, `PostalCode`, `MailingPostalCode`, Zoho `Zip Code`,
/// Follow Up Boss `Address 1 - Zip`) go to `zip`, the documented key.
pub(super) const METADATA_ALIASES: &[(&str, &str)] = &[
    ("zip", "zip"),
    ("zipcode", "zip"),
    ("postalcode", "zip"),
    ("postcode", "zip"),
    ("zippostalcode", "zip"),
    ("mailingzippostalcode", "zip"),
    ("mailingpostalcode", "zip"),
    ("address1zip", "zip"),
    ("personfirstname", "first_name"),
    ("givenname", "first_name"),
    ("personlastname", "last_name"),
    ("surname", "last_name"),
    ("familyname", "last_name"),
    ("mailingcity", "city"),
    ("address1city", "city"),
    ("street", "address"),
    ("streetaddress", "address"),
    ("mailingstreet", "address"),
    ("address1street", "address"),
];
