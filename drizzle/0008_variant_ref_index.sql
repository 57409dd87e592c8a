-- Edited after drizzle-kit generate: IF NOT EXISTS, so that a large deployment may build this
-- index with CREATE INDEX CONCURRENTLY before it migrates (README, Operations), and this check,
-- so that an index left invalid by a concurrent build that failed is rebuilt rather than kept.
DO $$ BEGIN
  IF EXISTS (
    SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
    WHERE c.relnamespace = to_regnamespace(current_schema()) AND NOT i.indisvalid
      AND c.relname = 'transactions_team_account_variant_ref_idx'
  ) THEN
    RAISE EXCEPTION 'an index of migration 0008 is invalid (a concurrent build of it failed): drop it, then build it again or migrate';
  END IF;
END $$;--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "transactions_team_account_variant_ref_idx" ON "transactions" USING btree ("team_id","account_id") WHERE "transactions"."provider_transaction_id" like '%~%';
