DROP INDEX "transactions_team_date_idx";--> statement-breakpoint
DROP INDEX "transactions_team_account_date_idx";--> statement-breakpoint
DROP INDEX "transactions_team_connection_date_idx";--> statement-breakpoint
DROP INDEX "transactions_team_category_date_idx";--> statement-breakpoint
DROP INDEX "transactions_team_account_category_date_idx";--> statement-breakpoint
CREATE INDEX "transactions_team_date_idx" ON "transactions" USING btree ("team_id","transaction_date" DESC NULLS FIRST,"id" DESC NULLS FIRST,"type");--> statement-breakpoint
CREATE INDEX "transactions_team_account_date_idx" ON "transactions" USING btree ("team_id","account_id","transaction_date" DESC NULLS FIRST,"id" DESC NULLS FIRST,"type");--> statement-breakpoint
CREATE INDEX "transactions_team_connection_date_idx" ON "transactions" USING btree ("team_id","connection_id","transaction_date" DESC NULLS FIRST,"id" DESC NULLS FIRST,"type");--> statement-breakpoint
CREATE INDEX "transactions_team_category_date_idx" ON "transactions" USING btree ("team_id","category","transaction_date" DESC NULLS FIRST,"id" DESC NULLS FIRST,"connection_id","type");--> statement-breakpoint
CREATE INDEX "transactions_team_account_category_date_idx" ON "transactions" USING btree ("team_id","account_id","category","transaction_date" DESC NULLS FIRST,"id" DESC NULLS FIRST,"type");