-- Edited after drizzle-kit generate: IF NOT EXISTS, so that a large deployment may build these
-- six indexes with CREATE INDEX CONCURRENTLY before it migrates (README, Operations) instead of
-- locking the transactions table while they build; and this check, so that an index left invalid
-- by a concurrent build that failed is rebuilt rather than kept.
DO $$ BEGIN
  IF EXISTS (
    SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
    WHERE c.relnamespace = to_regnamespace(current_schema()) AND NOT i.indisvalid
      AND c.relname IN ('transactions_team_type_date_idx', 'transactions_team_account_type_date_idx', 'transactions_team_connection_type_date_idx', 'transactions_team_category_type_date_idx', 'transactions_team_account_category_type_date_idx', 'transactions_team_connection_category_type_date_idx')
  ) THEN
    RAISE EXCEPTION 'an index of migration 0007 is invalid (a concurrent build of it failed): drop it, then build it again or migrate';
  END IF;
END $$;--> statement-breakpoint
DROP INDEX "transactions_team_date_idx";--> statement-breakpoint
DROP INDEX "transactions_team_account_date_idx";--> statement-breakpoint
DROP INDEX "transactions_team_connection_date_idx";--> statement-breakpoint
DROP INDEX "transactions_team_category_date_idx";--> statement-breakpoint
DROP INDEX "transactions_team_account_category_date_idx";--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "transactions_team_type_date_idx" ON "transactions" USING btree ("team_id","type","transaction_date" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "transactions_team_account_type_date_idx" ON "transactions" USING btree ("team_id","account_id","type","transaction_date" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "transactions_team_connection_type_date_idx" ON "transactions" USING btree ("team_id","connection_id","type","transaction_date" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "transactions_team_category_type_date_idx" ON "transactions" USING btree ("team_id","category","type","transaction_date" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "transactions_team_account_category_type_date_idx" ON "transactions" USING btree ("team_id","account_id","category","type","transaction_date" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "transactions_team_connection_category_type_date_idx" ON "transactions" USING btree ("team_id","connection_id","category","type","transaction_date" DESC NULLS FIRST,"id" DESC NULLS FIRST);