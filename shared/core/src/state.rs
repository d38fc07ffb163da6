//! What a function builds once per cold start and every request borrows, and the one way to
//! build it: `AppState::builder`, used alike by the Lambda functions (over DynamoDB,
//! `auth_lambda`), `local-api` (over DynamoDB or memory) and the tests.

use std::{sync::Arc, time::Duration};

use crate::{
    access::{self, Refusal},
    accounts::{AccountRecords, AccountStore, mail::Mailer},
    activity::{ActivityLog, ActivityRecorder, InMemoryActivityLog},
    claims::VerifiedClaims,
    clock::Clock,
    login_throttle::LoginThrottle,
    lookup::{SeparateLookup, TokenLookup},
    metrics::{Event, Metrics},
    mfa::{MfaChallenges, MfaStore},
    passwords::PasswordChecker,
    sessions::{InMemorySessionStore, SessionStore},
    settings::{
        AccountSettings, BrowserSettings, LoginThrottlePolicy, MfaSettings, RotationPolicy,
        SESSIONS_TABLE_REQUIRED, Settings, SettingsError, USERS_TABLE_REQUIRED,
    },
    tokens::{SigningError, TokenService},
    users::{InMemoryUserStore, User, UserStore},
};

/// How long a function may take: `template.yaml`'s `Timeout` (a test of the emulator holds the
/// two together).
pub const FUNCTION_TIMEOUT: Duration = Duration::from_secs(10);
/// What a request keeps back from its deadline to send its answer: far more than posting a
/// small JSON reply takes, even at 128 MB's share of a CPU.
pub const ANSWER_MARGIN: Duration = Duration::from_millis(500);
/// The budget of a request that has no deadline of its own (the local server, tests): the
/// function's timeout less the margin, so the local server answers when a function would.
pub const DEFAULT_REQUEST_BUDGET: Duration =
    Duration::from_millis(FUNCTION_TIMEOUT.as_millis() as u64 - ANSWER_MARGIN.as_millis() as u64);

/// The state of a function. Built by `AppState::builder`; read through its accessors.
pub struct AppState {
    tokens: TokenService,
    users: Arc<dyn UserStore>,
    sessions: Arc<dyn SessionStore>,
    lookup: Arc<dyn TokenLookup>,
    rotation: RotationPolicy,
    login_throttle: LoginThrottle,
    mfa_throttle: LoginThrottle,
    passwords: PasswordChecker,
    clock: Clock,
    request_budget: Duration,
    browser: BrowserSettings,
    metrics: Metrics,
    accounts: Option<Arc<dyn AccountStore>>,
    records: Option<Arc<dyn AccountRecords>>,
    mailer: Option<Arc<dyn Mailer>>,
    account_settings: AccountSettings,
    factors: Option<Arc<dyn MfaStore>>,
    challenges: Option<Arc<dyn MfaChallenges>>,
    mfa_settings: MfaSettings,
    activity: ActivityRecorder,
}

/// The stores a state reads and writes, and the lookup that reads both for a token's request.
#[derive(Clone)]
pub struct Stores {
    pub users: Arc<dyn UserStore>,
    /// Revoked tokens, sessions and login-failure counts.
    pub sessions: Arc<dyn SessionStore>,
    /// What a token's request reads of both stores, in one round trip where they allow it.
    pub lookup: Arc<dyn TokenLookup>,
    /// The users' writes of the self-service routes (the users table's store).
    pub accounts: Option<Arc<dyn AccountStore>>,
    /// Mailed tokens, mail slots and request counts (the sessions table's store).
    pub records: Option<Arc<dyn AccountRecords>>,
    /// The second factors' writes (the users table's store).
    pub factors: Option<Arc<dyn MfaStore>>,
    /// Logins waiting for their second factor (the sessions table's store).
    pub challenges: Option<Arc<dyn MfaChallenges>>,
    /// The users' activity log (its own table); none: nothing is logged.
    pub activity: Option<Arc<dyn ActivityLog>>,
}

impl Stores {
    /// Stores that cannot answer a token's request together (in memory): the lookup asks each.
    /// Without the self-service stores: see `with_accounts`.
    pub fn separate(users: Arc<dyn UserStore>, sessions: Arc<dyn SessionStore>) -> Self {
        Self {
            lookup: Arc::new(SeparateLookup::new(users.clone(), sessions.clone())),
            users,
            sessions,
            accounts: None,
            records: None,
            factors: None,
            challenges: None,
            activity: None,
        }
    }

    /// The in-memory stores, the self-service and second-factor ones and an activity log
    /// included.
    pub fn in_memory(users: Arc<InMemoryUserStore>, sessions: Arc<InMemorySessionStore>) -> Self {
        Self::separate(users.clone(), sessions.clone())
            .with_accounts(users.clone(), sessions.clone())
            .with_mfa(users, sessions)
            .with_activity(Arc::new(InMemoryActivityLog::default()))
    }

    /// These stores, with the users' activity log.
    pub fn with_activity(mut self, log: Arc<dyn ActivityLog>) -> Self {
        self.activity = Some(log);
        self
    }

    /// These stores, with the second factor's writes and the logins waiting for one.
    pub fn with_mfa(
        mut self,
        factors: Arc<dyn MfaStore>,
        challenges: Arc<dyn MfaChallenges>,
    ) -> Self {
        self.factors = Some(factors);
        self.challenges = Some(challenges);
        self
    }

    /// These stores, with the self-service routes' writes and records.
    pub fn with_accounts(
        mut self,
        accounts: Arc<dyn AccountStore>,
        records: Arc<dyn AccountRecords>,
    ) -> Self {
        self.accounts = Some(accounts);
        self.records = Some(records);
        self
    }
}

/// Why a function could not start. Names the variable at fault, never a secret.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("invalid configuration: {0}")]
    Settings(#[from] SettingsError),
    #[error("could not load the signing key: {0}")]
    Keys(#[from] SigningError),
    #[error("invalid configuration: {USERS_TABLE_REQUIRED}")]
    NoUsersTable,
    #[error("invalid configuration: {SESSIONS_TABLE_REQUIRED}")]
    NoSessionsTable,
    /// A function that mails, without what every mail needs.
    #[error(
        "invalid configuration: {variable}: is required by the functions that send mail: {what}"
    )]
    MailSetting {
        variable: &'static str,
        what: &'static str,
    },
}

/// Builds an `AppState` from settings and stores; everything else has the value a deployed
/// function runs with unless a test or the local server says otherwise.
#[must_use]
pub struct StateBuilder {
    settings: Settings,
    stores: Stores,
    clock: Clock,
    request_budget: Duration,
    passwords: PasswordChecker,
    metrics: Metrics,
    mailer: Option<Arc<dyn Mailer>>,
}

impl StateBuilder {
    /// What sends the self-service routes' mail (default: nothing; a route that would mail
    /// answers 503).
    pub fn mailer(mut self, mailer: Arc<dyn Mailer>) -> Self {
        self.mailer = Some(mailer);
        self
    }

    /// The clock every check and every record is measured by (default: the system's).
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// How long a request may take when it has no Lambda deadline (default
    /// `DEFAULT_REQUEST_BUDGET`).
    pub fn request_budget(mut self, budget: Duration) -> Self {
        self.request_budget = budget;
        self
    }

    /// Checks passwords with `workers` workers (default: one per CPU, counted at the first
    /// check).
    pub fn password_workers(mut self, workers: usize) -> Self {
        self.passwords = PasswordChecker::new(workers);
        self
    }

    /// Where the security events go (default: nowhere).
    pub fn metrics(mut self, metrics: Metrics) -> Self {
        self.metrics = metrics;
        self
    }

    pub fn build(self) -> Result<AppState, StartupError> {
        let settings = self.settings;
        Ok(AppState {
            tokens: TokenService::new(&settings)?,
            users: self.stores.users,
            login_throttle: LoginThrottle::new(
                settings.login_throttle,
                self.stores.sessions.clone(),
            ),
            // A factor locks as a login does, in the same window, after its own count.
            mfa_throttle: LoginThrottle::new(
                LoginThrottlePolicy {
                    max_failures: settings.mfa.lock_max_failures,
                    window: settings.login_throttle.window,
                },
                self.stores.sessions.clone(),
            ),
            sessions: self.stores.sessions,
            lookup: self.stores.lookup,
            rotation: settings.rotation,
            passwords: self.passwords,
            clock: self.clock.clone(),
            request_budget: self.request_budget,
            browser: settings.browser,
            metrics: self.metrics.clone(),
            accounts: self.stores.accounts,
            records: self.stores.records,
            mailer: self.mailer,
            account_settings: settings.accounts,
            factors: self.stores.factors,
            challenges: self.stores.challenges,
            mfa_settings: settings.mfa,
            activity: ActivityRecorder::new(
                self.stores.activity,
                settings.activity.retention,
                self.metrics.clone(),
                self.clock.clone(),
            ),
        })
    }
}

impl AppState {
    /// The state of `settings` over `stores`.
    pub fn builder(settings: &Settings, stores: Stores) -> StateBuilder {
        StateBuilder {
            settings: settings.clone(),
            stores,
            clock: Clock::System,
            request_budget: DEFAULT_REQUEST_BUDGET,
            passwords: PasswordChecker::per_cpu(),
            metrics: Metrics::off(),
            mailer: None,
        }
    }

    /// Signs and checks tokens with the configured keys, lifetimes, issuer and audience.
    pub fn tokens(&self) -> &TokenService {
        &self.tokens
    }

    pub fn users(&self) -> &dyn UserStore {
        self.users.as_ref()
    }

    /// Revoked tokens, sessions and login-failure counts.
    pub fn sessions(&self) -> &dyn SessionStore {
        self.sessions.as_ref()
    }

    /// The same store, owned, for a write that outlives the request's borrow
    /// (`ActivityRecorder::write_in_background`).
    pub fn shared_sessions(&self) -> Arc<dyn SessionStore> {
        self.sessions.clone()
    }

    /// What a token's request reads of both stores, in one round trip where they allow it.
    pub fn lookup(&self) -> &dyn TokenLookup {
        self.lookup.as_ref()
    }

    pub fn rotation(&self) -> RotationPolicy {
        self.rotation
    }

    pub fn login_throttle(&self) -> &LoginThrottle {
        &self.login_throttle
    }

    /// Counts wrong second-factor codes per user (`AttemptBucket::SecondFactor`), and locks
    /// the factor after `MFA_MAX_FAILURES` of them in `LOGIN_FAILURE_WINDOW`.
    pub fn mfa_throttle(&self) -> &LoginThrottle {
        &self.mfa_throttle
    }

    /// Checks passwords with bounded workers, each with an Argon2 memory it keeps.
    pub fn passwords(&self) -> &PasswordChecker {
        &self.passwords
    }

    /// The time every check and every record is measured by.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// How long a request may take when it has no Lambda deadline.
    pub fn request_budget(&self) -> Duration {
        self.request_budget
    }

    /// Where tokens travel (headers, cookies) and how the cookies are set.
    pub fn browser(&self) -> &BrowserSettings {
        &self.browser
    }

    /// The users' writes of the self-service routes, if the stores have them.
    pub fn accounts(&self) -> Option<&dyn AccountStore> {
        self.accounts.as_deref()
    }

    /// Mailed tokens, mail slots and request counts, if the stores have them.
    pub fn records(&self) -> Option<&dyn AccountRecords> {
        self.records.as_deref()
    }

    /// What sends mail, in a function that sends it.
    pub fn mailer(&self) -> Option<&dyn Mailer> {
        self.mailer.as_deref()
    }

    /// Sign-up, mail and the per-address limits.
    pub fn account_settings(&self) -> &AccountSettings {
        &self.account_settings
    }

    /// The second factors' writes, if the stores have them.
    pub fn factors(&self) -> Option<&dyn MfaStore> {
        self.factors.as_deref()
    }

    /// Logins waiting for their second factor, if the stores have them.
    pub fn challenges(&self) -> Option<&dyn MfaChallenges> {
        self.challenges.as_deref()
    }

    /// The second factor's key, name and limits.
    pub fn mfa_settings(&self) -> &MfaSettings {
        &self.mfa_settings
    }

    /// The users' activity log: written without waiting (`ActivityRecorder::record`), read a
    /// page at a time.
    pub fn activity(&self) -> &ActivityRecorder {
        &self.activity
    }

    /// Counts `event` now, as a metric line of this function.
    pub fn record(&self, event: Event) {
        self.metrics.emit(event, self.clock.now());
    }

    /// The user behind `claims`, now, if they are still allowed in (`access::user_of`).
    pub async fn user_of(&self, claims: &VerifiedClaims) -> Result<User, Refusal> {
        access::user_of(self.lookup(), claims, self.clock.unix_secs()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        claims::TokenKind, sessions::InMemorySessionStore, settings::SECRET_KEY_VAR,
        tokens::new_token_id, users::InMemoryUserStore,
    };

    fn settings() -> Settings {
        Settings::from_lookup(|name| {
            (name == SECRET_KEY_VAR).then(|| "state-tests-secret-0123456789abcdef".to_owned())
        })
        .unwrap()
    }

    fn demo_stores() -> Stores {
        Stores::separate(
            Arc::new(InMemoryUserStore::demo()),
            Arc::new(InMemorySessionStore::default()),
        )
    }

    #[tokio::test]
    async fn state_issues_tokens_with_the_settings_and_finds_users_in_the_store() {
        let state = AppState::builder(&settings(), demo_stores())
            .build()
            .unwrap();
        let now = state.clock().unix_secs();
        let token = state
            .tokens()
            .issue_at(TokenKind::Access, "cosmo", true, now, &new_token_id(), None)
            .unwrap();
        assert_eq!(
            state
                .tokens()
                .verify(&token, TokenKind::Access)
                .unwrap()
                .subject,
            "cosmo"
        );
        assert!(state.users().find("cosmo").await.unwrap().is_some());
    }

    #[test]
    fn the_builder_keeps_what_it_is_told_and_defaults_the_rest() {
        let clock = Clock::manual();
        let state = AppState::builder(&settings(), demo_stores())
            .clock(clock.clone())
            .request_budget(Duration::from_millis(50))
            .build()
            .unwrap();
        clock.advance(Duration::from_secs(60));
        assert_eq!(state.clock().now(), clock.now());
        assert_eq!(state.request_budget(), Duration::from_millis(50));
        let defaults = AppState::builder(&settings(), demo_stores())
            .build()
            .unwrap();
        assert_eq!(defaults.request_budget(), DEFAULT_REQUEST_BUDGET);
        assert!(matches!(defaults.clock(), Clock::System));
    }

    #[test]
    fn missing_users_table_error_names_the_variable() {
        assert!(
            StartupError::NoUsersTable
                .to_string()
                .contains("USERS_TABLE: is required")
        );
    }

    #[test]
    fn missing_sessions_table_error_names_the_variable() {
        assert!(
            StartupError::NoSessionsTable
                .to_string()
                .contains("SESSIONS_TABLE: is required")
        );
    }

    #[test]
    fn startup_error_names_the_variable() {
        let error = StartupError::from(Settings::from_lookup(|_| None).unwrap_err());
        assert!(error.to_string().contains("JWT_SECRET_KEY"));
    }
}
