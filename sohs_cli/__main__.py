from sohs_cli.cli.app import main

main()
