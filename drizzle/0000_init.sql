CREATE TABLE "accounts" (
	"team_id" text NOT NULL,
	"id" text NOT NULL,
	"connection_id" text NOT NULL,
	"provider_account_id" text NOT NULL,
	"name" text NOT NULL,
	"account_number" text,
	"sort_code" text,
	"currency" text NOT NULL,
	"type" text NOT NULL,
	"balance_minor" bigint DEFAULT 0 NOT NULL,
	"available_balance_minor" bigint,
	"transaction_count" integer DEFAULT 0 NOT NULL,
	"position" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "accounts_team_id_id_pk" PRIMARY KEY("team_id","id")
);
--> statement-breakpoint
CREATE TABLE "api_keys" (
	"team_id" text NOT NULL,
	"id" text NOT NULL,
	"key_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "api_keys_team_id_id_pk" PRIMARY KEY("team_id","id")
);
--> statement-breakpoint
CREATE TABLE "connections" (
	"team_id" text NOT NULL,
	"id" text NOT NULL,
	"provider" text NOT NULL,
	"provider_id" text NOT NULL,
	"consent_ref" text NOT NULL,
	"status" text NOT NULL,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"last_synced_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "connections_team_id_id_pk" PRIMARY KEY("team_id","id")
);
--> statement-breakpoint
CREATE TABLE "consent_references" (
	"team_id" text NOT NULL,
	"provider" text NOT NULL,
	"consent_ref" text NOT NULL,
	"connection_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "consent_references_team_id_provider_consent_ref_pk" PRIMARY KEY("team_id","provider","consent_ref")
);
--> statement-breakpoint
CREATE TABLE "consents" (
	"team_id" text NOT NULL,
	"id" text NOT NULL,
	"connection_id" text NOT NULL,
	"status" text NOT NULL,
	"scopes" text[] NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"revoked_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "consents_team_id_id_pk" PRIMARY KEY("team_id","id")
);
--> statement-breakpoint
CREATE TABLE "teams" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "transactions" (
	"team_id" text NOT NULL,
	"id" text NOT NULL,
	"account_id" text NOT NULL,
	"connection_id" text NOT NULL,
	"provider_transaction_id" text NOT NULL,
	"amount_minor" bigint NOT NULL,
	"currency" text NOT NULL,
	"description" text NOT NULL,
	"transaction_date" timestamp with time zone NOT NULL,
	"type" text NOT NULL,
	"status" text NOT NULL,
	"category" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "transactions_team_id_id_pk" PRIMARY KEY("team_id","id"),
	CONSTRAINT "transactions_amount_minor_check" CHECK ("transactions"."amount_minor" >= 0)
);
--> statement-breakpoint
ALTER TABLE "accounts" ADD CONSTRAINT "accounts_team_id_connection_id_connections_team_id_id_fk" FOREIGN KEY ("team_id","connection_id") REFERENCES "public"."connections"("team_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "connections" ADD CONSTRAINT "connections_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "consent_references" ADD CONSTRAINT "consent_references_team_id_connection_id_connections_team_id_id_fk" FOREIGN KEY ("team_id","connection_id") REFERENCES "public"."connections"("team_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "consents" ADD CONSTRAINT "consents_team_id_connection_id_connections_team_id_id_fk" FOREIGN KEY ("team_id","connection_id") REFERENCES "public"."connections"("team_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "transactions" ADD CONSTRAINT "transactions_team_id_account_id_accounts_team_id_id_fk" FOREIGN KEY ("team_id","account_id") REFERENCES "public"."accounts"("team_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "accounts_team_connection_ref_key" ON "accounts" USING btree ("team_id","connection_id","provider_account_id");--> statement-breakpoint
CREATE INDEX "accounts_team_created_idx" ON "accounts" USING btree ("team_id","created_at","connection_id","position");--> statement-breakpoint
CREATE UNIQUE INDEX "api_keys_id_key" ON "api_keys" USING btree ("id");--> statement-breakpoint
CREATE INDEX "connections_team_created_idx" ON "connections" USING btree ("team_id","created_at","id");--> statement-breakpoint
CREATE INDEX "consents_team_connection_idx" ON "consents" USING btree ("team_id","connection_id","created_at","id");--> statement-breakpoint
CREATE UNIQUE INDEX "transactions_team_account_ref_key" ON "transactions" USING btree ("team_id","account_id","provider_transaction_id");--> statement-breakpoint
CREATE INDEX "transactions_team_date_idx" ON "transactions" USING btree ("team_id","transaction_date" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "transactions_team_account_date_idx" ON "transactions" USING btree ("team_id","account_id","transaction_date" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "transactions_team_connection_date_idx" ON "transactions" USING btree ("team_id","connection_id","transaction_date" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "transactions_team_account_pending_idx" ON "transactions" USING btree ("team_id","account_id") WHERE "transactions"."status" = 'PENDING';