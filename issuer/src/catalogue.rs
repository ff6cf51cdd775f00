//! The academy's catalogue and demo records, loaded from JSON files.
//!
//! Loading is idempotent: records are matched by their stable ids, so
//! loading the same file twice changes nothing, and loading a changed file
//! updates titles and texts. Issued credentials are stored signed and are
//! never touched by a load.

use crate::db::Pool;
use credentials::text::LANGUAGES;
use credentials::LocalizedText;
use serde::Deserialize;
use std::collections::HashSet;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalogue {
    pub modules: Vec<Module>,
    pub paths: Vec<Path>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Module {
    pub id: String,
    pub hours: u32,
    pub valid_for_months: Option<u32>,
    pub title: LocalizedText,
    pub description: LocalizedText,
    pub criteria: LocalizedText,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Path {
    pub id: String,
    pub modules: Vec<String>,
    pub title: LocalizedText,
    pub description: LocalizedText,
    pub criteria: LocalizedText,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Demo {
    pub cooperatives: Vec<Cooperative>,
    pub members: Vec<Member>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cooperative {
    pub id: String,
    pub name: CooperativeName,
    pub registration_number: String,
    pub region: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CooperativeName {
    pub ar: String,
    pub latin: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Member {
    pub id: String,
    pub cooperative: String,
    pub name_ar: String,
    pub name_latin: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub role: String,
}

fn is_stable_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

impl Catalogue {
    /// Checks ids, languages and path references before anything is stored.
    pub fn validate(&self) -> anyhow::Result<()> {
        let mut ids = HashSet::new();
        for module in &self.modules {
            anyhow::ensure!(
                is_stable_id(&module.id),
                "module id {:?} must be lowercase letters, digits and hyphens",
                module.id
            );
            anyhow::ensure!(
                ids.insert(module.id.as_str()),
                "module id {:?} appears twice",
                module.id
            );
            anyhow::ensure!(module.hours > 0, "module {} has zero hours", module.id);
            check_languages(
                &module.id,
                &[&module.title, &module.description, &module.criteria],
            )?;
        }
        let mut path_ids = HashSet::new();
        for path in &self.paths {
            anyhow::ensure!(
                is_stable_id(&path.id),
                "path id {:?} must be lowercase letters, digits and hyphens",
                path.id
            );
            anyhow::ensure!(
                path_ids.insert(path.id.as_str()),
                "path id {:?} appears twice",
                path.id
            );
            anyhow::ensure!(!path.modules.is_empty(), "path {} has no modules", path.id);
            for module in &path.modules {
                anyhow::ensure!(
                    ids.contains(module.as_str()),
                    "path {} names unknown module {module:?}",
                    path.id
                );
            }
            check_languages(&path.id, &[&path.title, &path.description, &path.criteria])?;
        }
        Ok(())
    }
}

fn check_languages(id: &str, texts: &[&LocalizedText]) -> anyhow::Result<()> {
    for text in texts {
        for language in LANGUAGES {
            anyhow::ensure!(
                text.0.get(language).is_some_and(|t| !t.trim().is_empty()),
                "{id} has no {language} text in one of title, description or criteria"
            );
        }
    }
    Ok(())
}

fn json(text: &LocalizedText) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "{}".to_owned())
}

/// Stores the catalogue in one transaction.
pub async fn load_catalogue(pool: &Pool, catalogue: &Catalogue) -> anyhow::Result<()> {
    catalogue.validate()?;
    let mut tx = pool.begin().await?;
    for module in &catalogue.modules {
        sqlx::query(
            "INSERT INTO modules (id, hours, valid_for_months, title, description, criteria)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (id) DO UPDATE SET hours = excluded.hours,
                 valid_for_months = excluded.valid_for_months, title = excluded.title,
                 description = excluded.description, criteria = excluded.criteria",
        )
        .bind(&module.id)
        .bind(i64::from(module.hours))
        .bind(module.valid_for_months.map(i64::from))
        .bind(json(&module.title))
        .bind(json(&module.description))
        .bind(json(&module.criteria))
        .execute(&mut *tx)
        .await?;
    }
    for path in &catalogue.paths {
        sqlx::query(
            "INSERT INTO paths (id, title, description, criteria) VALUES ($1, $2, $3, $4)
             ON CONFLICT (id) DO UPDATE SET title = excluded.title,
                 description = excluded.description, criteria = excluded.criteria",
        )
        .bind(&path.id)
        .bind(json(&path.title))
        .bind(json(&path.description))
        .bind(json(&path.criteria))
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM path_modules WHERE path_id = $1")
            .bind(&path.id)
            .execute(&mut *tx)
            .await?;
        for (position, module) in path.modules.iter().enumerate() {
            sqlx::query(
                "INSERT INTO path_modules (path_id, module_id, position) VALUES ($1, $2, $3)",
            )
            .bind(&path.id)
            .bind(module)
            .bind(position as i64)
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Stores demo cooperatives and members. A member keeps the identity salt
/// drawn the first time it was loaded.
pub async fn load_demo(pool: &Pool, demo: &Demo) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    for cooperative in &demo.cooperatives {
        anyhow::ensure!(
            is_stable_id(&cooperative.id),
            "cooperative id {:?} must be lowercase letters, digits and hyphens",
            cooperative.id
        );
        sqlx::query(
            "INSERT INTO cooperatives (id, name_ar, name_latin, registration_number, region)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (id) DO UPDATE SET name_ar = excluded.name_ar,
                 name_latin = excluded.name_latin, region = excluded.region",
        )
        .bind(&cooperative.id)
        .bind(&cooperative.name.ar)
        .bind(&cooperative.name.latin)
        .bind(&cooperative.registration_number)
        .bind(&cooperative.region)
        .execute(&mut *tx)
        .await?;
    }
    for member in &demo.members {
        anyhow::ensure!(
            is_stable_id(&member.id),
            "member id {:?} must be lowercase letters, digits and hyphens",
            member.id
        );
        anyhow::ensure!(
            matches!(member.role.as_str(), "member" | "manager"),
            "member {} has unknown role {:?}",
            member.id,
            member.role
        );
        sqlx::query(
            "INSERT INTO members (id, cooperative_id, name_ar, name_latin, email, phone, role, identity_salt)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (id) DO UPDATE SET cooperative_id = excluded.cooperative_id,
                 name_ar = excluded.name_ar, name_latin = excluded.name_latin,
                 email = excluded.email, phone = excluded.phone, role = excluded.role",
        )
        .bind(&member.id)
        .bind(&member.cooperative)
        .bind(&member.name_ar)
        .bind(&member.name_latin)
        .bind(&member.email)
        .bind(&member.phone)
        .bind(&member.role)
        .bind(new_salt())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

fn new_salt() -> String {
    let mut bytes = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    hex::encode(bytes)
}

/// Reads and parses a JSON file, naming the file in errors.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &std::path::Path) -> anyhow::Result<T> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("could not read {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{} is not valid: {e}", path.display()))
}

/// Reads and stores a catalogue file and a demo file, the setup the test
/// harnesses share.
pub async fn load_files(
    pool: &Pool,
    catalogue: &std::path::Path,
    demo: &std::path::Path,
) -> anyhow::Result<()> {
    let catalogue: Catalogue = read_json(catalogue)?;
    load_catalogue(pool, &catalogue).await?;
    let demo: Demo = read_json(demo)?;
    load_demo(pool, &demo).await
}
