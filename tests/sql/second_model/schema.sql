-- A subscription software company unlike the demo: accounts on plans, billed monthly.
-- Loaded into schema `saas` of the test database by tests/sql/test_second_model.py, dropped after.
CREATE SCHEMA saas;

CREATE TABLE saas.countries (
    country_code text PRIMARY KEY,
    name text NOT NULL UNIQUE,
    continent text NOT NULL
);

CREATE TABLE saas.plans (
    plan_id int PRIMARY KEY,
    name text NOT NULL UNIQUE,
    list_price numeric(10, 2) NOT NULL
);

CREATE TABLE saas.accounts (
    account_id int PRIMARY KEY,
    name text NOT NULL UNIQUE,
    country_code text NOT NULL REFERENCES saas.countries,
    industry text NOT NULL,
    created_on date NOT NULL,
    status text NOT NULL CHECK (status IN ('active', 'churned'))
);

CREATE TABLE saas.subscriptions (
    subscription_id int PRIMARY KEY,
    account_id int NOT NULL REFERENCES saas.accounts,
    plan_id int NOT NULL REFERENCES saas.plans,
    started_on date NOT NULL,
    ended_on date,
    mrr numeric(10, 2) NOT NULL,
    status text NOT NULL CHECK (status IN ('active', 'cancelled'))
);

CREATE TABLE saas.invoices (
    invoice_id int PRIMARY KEY,
    subscription_id int NOT NULL REFERENCES saas.subscriptions,
    issued_on date NOT NULL,
    amount numeric(10, 2) NOT NULL,
    status text NOT NULL CHECK (status IN ('paid', 'open', 'void'))
);

INSERT INTO saas.countries VALUES
    ('US', 'United States', 'North America'),
    ('CA', 'Canada', 'North America'),
    ('DE', 'Germany', 'Europe'),
    ('JP', 'Japan', 'Asia'),
    ('BR', 'Brazil', 'South America');

INSERT INTO saas.plans VALUES
    (1, 'Starter', 49.00),
    (2, 'Team', 199.00),
    (3, 'Corporate', 799.00);

INSERT INTO saas.accounts VALUES
    (1, 'Acme Analytics', 'US', 'Software', '2022-03-14', 'active'),
    (2, 'Borealis Labs', 'CA', 'Biotech', '2022-07-01', 'active'),
    (3, 'Cobalt Foods', 'DE', 'Retail', '2022-11-20', 'churned'),
    (4, 'Delta Freight', 'US', 'Logistics', '2023-01-09', 'active'),
    (5, 'Ember Health', 'JP', 'Healthcare', '2023-04-18', 'active'),
    (6, 'Fjordline', 'DE', 'Logistics', '2023-06-02', 'active'),
    (7, 'Granite Legal', 'US', 'Legal', '2023-09-25', 'churned'),
    (8, 'Helix Retail', 'BR', 'Retail', '2023-12-11', 'active'),
    (9, 'Iris Media', 'JP', 'Media', '2024-02-05', 'active'),
    (10, 'Juniper Energy', 'CA', 'Energy', '2024-05-30', 'active'),
    (11, 'Kestrel Travel', 'BR', 'Travel', '2024-08-14', 'churned'),
    (12, 'Lumo Games', 'US', 'Media', '2024-10-03', 'active');

INSERT INTO saas.subscriptions VALUES
    (101, 1, 3, '2022-03-14', NULL, 799.00, 'active'),
    (102, 2, 2, '2022-07-01', '2023-12-31', 199.00, 'cancelled'),
    (103, 2, 3, '2024-01-01', NULL, 720.00, 'active'),
    (104, 3, 1, '2022-11-20', '2023-10-31', 49.00, 'cancelled'),
    (105, 4, 2, '2023-01-09', NULL, 199.00, 'active'),
    (106, 5, 2, '2023-04-18', NULL, 179.00, 'active'),
    (107, 6, 1, '2023-06-02', '2024-02-29', 49.00, 'cancelled'),
    (108, 6, 2, '2024-03-01', NULL, 199.00, 'active'),
    (109, 7, 1, '2023-09-25', '2024-03-31', 49.00, 'cancelled'),
    (110, 8, 1, '2023-12-11', NULL, 49.00, 'active'),
    (111, 9, 2, '2024-02-05', NULL, 199.00, 'active'),
    (112, 10, 3, '2024-05-30', NULL, 749.00, 'active'),
    (113, 11, 1, '2024-08-14', '2024-11-30', 49.00, 'cancelled'),
    (114, 12, 1, '2024-10-03', NULL, 39.00, 'active');

INSERT INTO saas.invoices VALUES
    (1001, 101, '2023-06-30', 4794.00, 'paid'),
    (1002, 101, '2023-12-31', 4794.00, 'paid'),
    (1003, 101, '2024-06-30', 4794.00, 'paid'),
    (1004, 101, '2024-12-31', 4794.00, 'open'),
    (1005, 102, '2023-06-30', 1194.00, 'paid'),
    (1006, 102, '2023-12-31', 1194.00, 'paid'),
    (1007, 103, '2024-06-30', 4320.00, 'paid'),
    (1008, 103, '2024-12-31', 4320.00, 'paid'),
    (1009, 104, '2023-06-30', 294.00, 'paid'),
    (1010, 104, '2023-10-31', 196.00, 'void'),
    (1011, 105, '2023-06-30', 1194.00, 'paid'),
    (1012, 105, '2023-12-31', 1194.00, 'paid'),
    (1013, 105, '2024-06-30', 1194.00, 'paid'),
    (1014, 105, '2024-12-31', 1194.00, 'paid'),
    (1015, 106, '2023-12-31', 1432.00, 'paid'),
    (1016, 106, '2024-06-30', 1074.00, 'paid'),
    (1017, 106, '2024-12-31', 1074.00, 'open'),
    (1018, 107, '2023-12-31', 343.00, 'paid'),
    (1019, 107, '2024-02-29', 98.00, 'paid'),
    (1020, 108, '2024-06-30', 796.00, 'paid'),
    (1021, 108, '2024-12-31', 1194.00, 'paid'),
    (1022, 109, '2023-12-31', 196.00, 'paid'),
    (1023, 109, '2024-03-31', 147.00, 'void'),
    (1024, 110, '2024-06-30', 294.00, 'paid'),
    (1025, 110, '2024-12-31', 294.00, 'paid'),
    (1026, 111, '2024-06-30', 995.00, 'paid'),
    (1027, 111, '2024-12-31', 1194.00, 'paid'),
    (1028, 112, '2024-12-31', 5243.00, 'paid'),
    (1029, 113, '2024-11-30', 196.00, 'paid'),
    (1030, 114, '2024-12-31', 117.00, 'open');
