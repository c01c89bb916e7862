from paddleport.cli.main import main

raise SystemExit(main())
