DROP INDEX "transactions_team_date_idx";--> statement-breakpoint
DROP INDEX "transactions_team_account_date_idx";--> statement-breakpoint
DROP INDEX "transactions_team_connection_date_idx";--> statement-breakpoint
DROP INDEX "transactions_team_category_date_idx";--> statement-breakpoint
DROP INDEX "transactions_team_account_category_date_idx";--> statement-breakpoint
CREATE INDEX "transactions_team_type_date_idx" ON "transactions" USING btree ("team_id","type","transaction_date" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "transactions_team_account_type_date_idx" ON "transactions" USING btree ("team_id","account_id","type","transaction_date" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "transactions_team_connection_type_date_idx" ON "transactions" USING btree ("team_id","connection_id","type","transaction_date" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "transactions_team_category_type_date_idx" ON "transactions" USING btree ("team_id","category","type","transaction_date" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "transactions_team_account_category_type_date_idx" ON "transactions" USING btree ("team_id","account_id","category","type","transaction_date" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "transactions_team_connection_category_type_date_idx" ON "transactions" USING btree ("team_id","connection_id","category","type","transaction_date" DESC NULLS FIRST,"id" DESC NULLS FIRST);