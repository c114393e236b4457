-- The tables the dbt project's models would build, in schema dbt_shop (trusted test fixture).
CREATE SCHEMA dbt_shop;
CREATE TABLE dbt_shop.customers (customer_id int PRIMARY KEY, country text NOT NULL);
CREATE TABLE dbt_shop.orders (order_id int PRIMARY KEY,
    customer_id int NOT NULL REFERENCES dbt_shop.customers, ordered_at date NOT NULL,
    status text NOT NULL, amount numeric(10, 2) NOT NULL);
INSERT INTO dbt_shop.customers VALUES (1, 'France'), (2, 'Japan');
INSERT INTO dbt_shop.orders VALUES (10, 1, '2024-01-05', 'completed', 100),
    (11, 1, '2024-02-01', 'cancelled', 50), (12, 2, '2024-02-03', 'completed', 30),
    (13, 2, '2025-03-01', 'completed', 20);
